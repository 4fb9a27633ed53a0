"""The per-site face gallery, downloaded by that site's devices (and operators)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, status

from hub.api.deps import SettingsDep, StoreDep, require_role
from hub.auth.roles import Principal, Role
from hub.faces.gallery import UnknownSiteError, site_gallery
from hub.faces.vault import FaceVault
from models.gallery import GalleryDocument

router = APIRouter(prefix="/api/gallery", tags=["gallery"])
log = logging.getLogger(__name__)

GalleryReader = Depends(require_role(Role.DEVICE, Role.ADMIN, Role.OPERATOR))


@router.get("/{site_id}", response_model=GalleryDocument)
def get_gallery(
    site_id: str, settings: SettingsDep, store: StoreDep, caller: Principal = GalleryReader
) -> GalleryDocument:
    """Encodings of the site's enrolled residents; a device only gets its own site's."""
    if caller.role is Role.DEVICE and caller.site_id != site_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a device only gets its own site's gallery")
    with store.sessions() as session:
        try:
            document = site_gallery(session, FaceVault.for_hub(settings), site_id)
        except UnknownSiteError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    log.info(
        "gallery of %s (%d entries) sent to %s %s",
        site_id,
        len(document.refs),
        caller.role,
        caller.username,
    )
    return document
