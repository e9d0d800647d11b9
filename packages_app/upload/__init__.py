"""The legacy upload pipeline (what twine and ``uv publish`` speak).

One small stage per module; each stage raises ``UploadError`` with the HTTP
status and the message a person sees (twine prints the reason phrase).
"""
