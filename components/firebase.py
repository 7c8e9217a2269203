"""Firebase for the page: the project added to Firebase, and where Auth accepts sign-ins from."""

from collections.abc import Iterable, Sequence

import pulumi
import pulumi_gcp as gcp


def add_firebase(
    name: str, project: str, depends_on: Sequence[pulumi.Resource], parent: pulumi.Resource
) -> gcp.firebase.Project:
    """Firebase added to `project`: web apps and Hosting sites exist only in Firebase projects.

    The provider adopts a project that has Firebase already instead of adding it
    again, and destroying this only forgets it (Firebase cannot be removed from a
    project), so a stack may own it whether or not Firebase was added before.
    """
    return gcp.firebase.Project(
        f"{name}-firebase",
        project=project,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def hosting_domains(site_id: str) -> tuple[str, str]:
    """The two domains Firebase Hosting serves a site on."""
    return f"{site_id}.web.app", f"{site_id}.firebaseapp.com"


def authorized_domains(project: str, site_ids: Iterable[str], extra: Iterable[str]) -> list[str]:
    """Firebase's own defaults, every domain the page is served from, then `extra`; each once.

    The list replaces the project's, so it keeps the defaults (localhost for
    development, and the project's default Hosting site).
    """
    domains = ["localhost", *hosting_domains(project)]
    for site_id in site_ids:
        domains += hosting_domains(site_id)
    domains += [domain.lower() for domain in extra]
    return list(dict.fromkeys(domains))


def sign_in_domains(
    name: str,
    *,
    project: str,
    domains: Sequence[str],
    depends_on: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> gcp.identityplatform.Config:
    """Firebase Auth's settings for `project`, with the domains it accepts sign-ins from.

    Firebase Auth refuses a sign-in from any other page (`auth/unauthorized-domain`),
    and a second Hosting site's domains are not among its defaults. Managing them
    upgrades the project's Auth to Identity Platform (free for Google sign-in up to
    49,999 monthly users); the call that does it takes only projects with billing,
    which the functions' builds need anyway.
    """
    return gcp.identityplatform.Config(
        f"{name}-sign-in",
        project=project,
        authorized_domains=list(domains),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
