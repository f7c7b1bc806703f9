import pytest

from hubs.widgets import validators


@pytest.mark.parametrize("value", ["javascript:alert(1)", "data:text/html,x", "ftp://x", "", 3])
def test_url_refuses_anything_but_http(value):
    with pytest.raises(ValueError):
        validators.url(value)


def test_url_accepts_http_and_https():
    assert validators.url(" https://fedoraproject.org/ ") == "https://fedoraproject.org/"


@pytest.mark.parametrize("value", ["7", 7, " 12 "])
def test_integer_accepts_numbers_in_range(value):
    assert validators.integer(1, 12)(value) == int(str(value).strip())


@pytest.mark.parametrize("value", ["0", 13, True, "1.5", None, "1e3"])
def test_integer_refuses_the_rest(value):
    with pytest.raises(ValueError):
        validators.integer(1, 12)(value)


def test_text_strips_and_bounds():
    assert validators.text(5)("  abc ") == "abc"
    assert validators.text(5)(None) == ""
    with pytest.raises(ValueError, match="at most 5"):
        validators.text(5)("abcdef")
    with pytest.raises(ValueError, match="is required"):
        validators.text(5, required=True)("   ")


def test_link_list_checks_each_link():
    validate = validators.link_list(max_links=2)
    assert validate([{"title": "Docs", "url": "https://docs.fedoraproject.org"}]) == [
        {"title": "Docs", "url": "https://docs.fedoraproject.org"}
    ]
    with pytest.raises(ValueError, match="link 1: must be an http"):
        validate([{"title": "Bad", "url": "javascript:alert(1)"}])
    with pytest.raises(ValueError, match="at most 2 links"):
        validate([{"title": "a", "url": "https://a"}] * 3)


def test_link_list_takes_the_text_a_form_or_the_edit_dialog_sends():
    validate = validators.link_list(max_links=2)
    assert validate(
        " Docs | https://docs.fedoraproject.org \n\n Tickets|https://pagure.io/x\n"
    ) == [
        {"title": "Docs", "url": "https://docs.fedoraproject.org"},
        {"title": "Tickets", "url": "https://pagure.io/x"},
    ]
    with pytest.raises(ValueError, match="link 1: must be an http"):
        validate("Evil | javascript:alert(1)")
    with pytest.raises(ValueError, match="link 1: is required"):
        validate("| https://docs.fedoraproject.org")
    with pytest.raises(ValueError, match="NUL"):
        validate("Docs | https://docs.fedoraproject.org\x00")


def test_username():
    assert validators.username("ralph") == "ralph"
    with pytest.raises(ValueError):
        validators.username("not a user")
