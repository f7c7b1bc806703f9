"""WSGI entry point: gunicorn -w 8 -t 60 --log-config logging.ini hubs.wsgi:app"""

from hubs.app import create_app

app = create_app()
