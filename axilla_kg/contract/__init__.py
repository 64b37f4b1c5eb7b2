"""The patient-case contract: the case features read from the ontology (``features``), strict
case parsing (``cases``) and the fields as the front door reads them (``fields``)."""
