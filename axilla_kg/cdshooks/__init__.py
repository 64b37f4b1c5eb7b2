"""CDS Hooks for imaging orders: ``order-select`` / ``order-sign`` services in the Argonaut
"CDS Hooks for PAMA" pattern. ``routes(service)`` gives the Starlette routes (``trust`` checks the
caller's JWT, ``feedback`` keeps CDS Hooks feedback); the case comes from prefetched FHIR resources
(``fhir_case``) and the order's own reason (``indication``); orders are identified through the order
mapping (``ordermap``, ``catalogue``), judged in ``orders`` and answered as cards (``cards``);
``request`` validates what a client sends and ``execution`` runs a call in a worker process."""
