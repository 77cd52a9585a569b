"""Placeholder: routes for this feature are being written."""

from aiohttp import web

routes = web.RouteTableDef()
