"""CDS Hooks for imaging orders: ``order-select`` / ``order-sign`` services in the Argonaut
"CDS Hooks for PAMA" pattern. ``routes(service)`` gives the Starlette routes; the case comes from
prefetched FHIR resources (``fhir_case``), orders are judged in ``orders`` and answered as cards
(``cards``); ``request`` validates what a client sends."""
