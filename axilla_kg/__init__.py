"""axilla-kg: the ACR Appropriateness Criteria "Imaging of the Axilla" (topic 286) as an
OWL 2 / RDF knowledge graph, with named SPARQL queries, a CLI and this Python API::

    from axilla_kg import KnowledgeGraph
    kg = KnowledgeGraph.load()
    kg.query("appropriate-studies", variant=4).records()

ACR Appropriateness Criteria content is (c) American College of Radiology.
"""

from axilla_kg.errors import AxillaKGError
from axilla_kg.graph.knowledge import KnowledgeGraph

__version__ = "0.1.0"
__all__ = ["AxillaKGError", "KnowledgeGraph", "__version__"]
