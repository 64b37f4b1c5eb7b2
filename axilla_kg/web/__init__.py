"""The lookup web app: server-rendered pages (topic and variant browser, patient-case form, dose
calculator) as Starlette routes; ``routes(lookup)`` gives them, ``app`` assembles the front door."""
