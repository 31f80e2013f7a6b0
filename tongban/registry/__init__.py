"""Registries (台账): people, enterprises, vehicles, drivers, riders, places, volunteers.

A side module behind the services layer. It knows the shape of every registry kind
(`kinds`), how to check one spreadsheet row (`validate`) and how to read and write xlsx
files (`xlsx`) — but nothing about Django: the service layer
(`tongban.services.registry`) resolves organisations, owns the transaction and writes
the rows.
"""
