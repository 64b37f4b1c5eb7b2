"""Everything that starts the JVM reasoner (owlready2: HermiT, Pellet) for answers."""
