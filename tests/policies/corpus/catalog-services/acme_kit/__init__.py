"""acme_kit: the platform team's service kit (pinned copy). See go/acme-kit."""

from .database import SharedPostgres
from .service import WebService, WebServiceArgs

__all__ = ["SharedPostgres", "WebService", "WebServiceArgs"]
