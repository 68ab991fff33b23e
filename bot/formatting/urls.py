"""Where RA's pages and pictures live (the operator's RA_SITE_BASE_URL and RA_MEDIA_BASE_URL):
the URLs every reply links to."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class SiteUrls:
    """Where RA's pages and pictures live (the operator's settings)."""

    site: str = "https://retroachievements.org"
    media: str = "https://media.retroachievements.org"

    def game(self, game_id: int) -> str:
        return f"{self.site}/game/{game_id}"

    def achievement(self, achievement_id: int) -> str:
        return f"{self.site}/achievement/{achievement_id}"

    def user(self, name: str) -> str:
        return f"{self.site}/user/{quote(name, safe='')}"

    def media_url(self, path: str) -> str | None:
        if not path:
            return None
        if path.startswith(("http://", "https://")):
            return path
        return self.media + ("" if path.startswith("/") else "/") + path
