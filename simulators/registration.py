"""Registering simulated patients, shops, jobs and devices through the platform's own HTTP API."""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from store.private_files import write_private

log = logging.getLogger(__name__)

MAKES = ["Toyota", "BMW", "Volkswagen", "Honda", "Tesla", "BYD"]
SHOP_SITES = [
    (31.2304, 121.4737),
    (31.2200, 121.4500),
    (31.2450, 121.5000),
    (31.1900, 121.4300),
    (31.2600, 121.4200),
    (31.2000, 121.5200),
]
FIRST = [
    "Li Wei",
    "Anna Schmidt",
    "James Carter",
    "Wang Fang",
    "Maria Rossi",
    "Chen Jie",
    "Sofia Garcia",
    "Zhang Min",
    "Tom Baker",
    "Liu Yang",
]


@dataclass
class Registered:
    patients: list[str] = field(default_factory=list)
    wearables: dict[str, str] = field(default_factory=dict)  # device_id -> patient_id
    shops: list[dict[str, Any]] = field(default_factory=list)
    gateways: dict[str, str] = field(default_factory=dict)  # device_id -> shop_id
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # shop_id -> jobs
    tokens: dict[str, str] = field(default_factory=dict)


class Registrar:
    def __init__(self, api_url: str, admin_token: str, *, verify: ssl.SSLContext | bool = True) -> None:
        """``verify``: how an https API's certificate is checked (a context trusting its CA; True: the system's)."""
        self.http = httpx.Client(
            base_url=api_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30, verify=verify
        )

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        answer = self.http.post(f"/api/v1{path}", json=body)
        if answer.status_code == 409:
            return None  # registered by an earlier run
        if answer.status_code >= 400:
            raise RuntimeError(f"POST {path} -> {answer.status_code}: {answer.text[:300]}")
        result: dict[str, Any] = answer.json()
        return result

    def register(self, *, patients: int, shops: int, jobs_per_shop: int = 2, prefix: str = "sim") -> Registered:
        out = Registered()
        for i in range(patients):
            pid = f"{prefix}-P{i + 1}"
            self._post(
                "/patients",
                {
                    "id": pid,
                    "name": FIRST[i % len(FIRST)],
                    "claim_id": f"CLM-{prefix}-H{i + 1}",
                    "manager_id": "M1" if i % 4 != 3 else "M2",
                    "resting_hr": 60 + 3 * (i % 4),
                    "max_hr": 175 - 2 * (i % 5),
                },
            )
            if self.http.get(f"/api/v1/patients/{pid}/plans/current").status_code == 404:
                self._post(f"/patients/{pid}/plans", {"reason": "initial plan at enrolment"})
            dev = f"{prefix}-W{i + 1}"
            self._post("/devices", {"device_id": dev, "kind": "wearable", "patient_id": pid})
            out.patients.append(pid)
            out.wearables[dev] = pid
        severities = ["minor", "moderate", "severe"]
        for j in range(shops):
            sid = f"{prefix}-S{j + 1}"
            lat, lon = SHOP_SITES[j % len(SHOP_SITES)]
            makes = MAKES[j % 3 : j % 3 + 3]
            shop: dict[str, Any] = {
                "id": sid,
                "name": f"{['Huangpu', 'Xuhui', 'Pudong', 'Minhang', 'Putuo', 'Jing an'][j % 6]} Auto Body",
                "lat": lat,
                "lon": lon,
                "makes": makes,
                "capacity": 6,
                "severities": severities[: 2 + j % 2],
            }
            self._post("/shops", shop)
            out.shops.append(shop)
            gw = f"{prefix}-G{j + 1}"
            self._post("/devices", {"device_id": gw, "kind": "shop_gateway", "shop_id": sid})
            out.gateways[gw] = sid
            out.jobs[sid] = []
            for k in range(jobs_per_shop):
                job = {
                    "id": f"J-{prefix}-{j + 1}{k + 1}",
                    "claim_id": f"CLM-{prefix}-M{j + 1}{k + 1}",
                    "shop_id": sid,
                    "vehicle": {
                        "make": makes[k % len(makes)],
                        "model": "Model",
                        "year": 2019 + k,
                        "drivable": k % 2 == 0,
                    },
                    "severity": severities[(j + k) % 2],
                    "customer": {"lat": lat + 0.01, "lon": lon - 0.01},
                }
                self._post("/repair-jobs", job)
                out.jobs[sid].append(job)
        out.tokens = self._demo_tokens(out)
        return out

    def _demo_tokens(self, reg: Registered) -> dict[str, str]:
        wanted: list[tuple[str, dict[str, Any]]] = [
            ("manager M1", {"role": "rehab_manager", "manager_id": "M1"}),
            ("claims handler", {"role": "claims_handler"}),
        ]
        if reg.shops:
            wanted.append((f"shop {reg.shops[0]['id']}", {"role": "shop", "shop_id": reg.shops[0]["id"]}))
            shop_jobs = reg.jobs[str(reg.shops[0]["id"])]
            first_job = str(shop_jobs[0]["id"]) if shop_jobs else None
            if first_job:
                wanted.append((f"claimant of {first_job}", {"role": "claimant", "job_id": first_job}))
        if reg.patients:
            wanted.append((f"claimant {reg.patients[0]}", {"role": "claimant", "patient_id": reg.patients[0]}))
        tokens = {}
        for label, body in wanted:
            made = self._post("/tokens", {**body, "label": f"demo {label}", "expires_in": 7 * 86_400})
            if made is not None:
                tokens[label] = made["token"]
        return tokens

    def close(self) -> None:
        self.http.close()


def save_demo_tokens(data_dir: Path, tokens: dict[str, str]) -> Path:
    path = data_dir / "demo-tokens.json"
    write_private(path, json.dumps(tokens, indent=2).encode())  # 0600 from creation
    return path
