"""Bearer tokens, roles and tenants: who the caller is and what they may see.

Tokens are random 256-bit strings shown once; only their SHA-256 is stored, with the role, the
tenant the role needs, an expiry and a revoked flag. The bootstrap admin token comes from the
settings and is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLAIMS_HANDLER = "claims_handler"
    REHAB_MANAGER = "rehab_manager"
    SHOP = "shop"
    CLAIMANT = "claimant"


STAFF = frozenset({Role.ADMIN, Role.CLAIMS_HANDLER})


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "act_" + secrets.token_urlsafe(32)


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    token_id: str
    manager_id: str | None = None
    shop_id: str | None = None
    patient_id: str | None = None
    job_id: str | None = None
    case_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def name(self) -> str:
        tenant = self.manager_id or self.shop_id or self.patient_id or self.job_id or self.case_id
        return f"{self.role.value}:{tenant}" if tenant else f"{self.role.value}:{self.token_id}"

    def sees_patient(self, patient_id: str, manager_id: str | None) -> bool:
        if self.is_staff:
            return True
        if self.role is Role.REHAB_MANAGER:
            return manager_id is not None and manager_id == self.manager_id
        if self.role is Role.CLAIMANT:
            return self.patient_id == patient_id
        return False

    def sees_job(self, job_id: str, shop_id: str) -> bool:
        if self.is_staff:
            return True
        if self.role is Role.SHOP:
            return self.shop_id == shop_id
        if self.role is Role.CLAIMANT:
            return self.job_id == job_id
        return False

    def sees_shop(self, shop_id: str) -> bool:
        return self.is_staff or (self.role is Role.SHOP and self.shop_id == shop_id)
