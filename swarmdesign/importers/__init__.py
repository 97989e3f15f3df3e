"""Importers: turn teams written for other frameworks into Designs.

Each importer returns ``(design, warnings)``; a warning is one line naming
the file, the entry and the field that a Design could not hold, so that
nothing is dropped silently. Import them from their modules, e.g.
``from swarmdesign.importers.crewai import import_crewai``.
"""
