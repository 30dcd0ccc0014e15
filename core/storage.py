"""Static files: hashed names (so browsers keep them for a year: WhiteNoise marks a versioned file
immutable) and precompressed copies, once ``collectstatic`` has run. Where it has not (tests,
``runserver``), the plain name is used instead of failing."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: no manifest entry and no file to hash
            return name
