"""Base services that every layer of the toolkit may import, and that import none of it.

- :mod:`toolkit._base.atomic`: files written whole or not at all (temporary file, then rename).
- :mod:`toolkit._base.provenance`: package versions, platform and the toolkit's own commit, for
  run manifests and the provenance line of every chart.

See ``docs/architecture.md`` for the layers.
"""
