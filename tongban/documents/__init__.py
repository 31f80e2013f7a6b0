"""Documents the platform hands out: signed certificate payloads, QR codes and PDFs.

A side module: it may use the engine but never Django models. The service layer
(`tongban.services.certificates`) loads rows and passes plain values in.
"""
