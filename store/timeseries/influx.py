"""InfluxDB backend of `TimeSeriesStore`: InfluxDB 1.x (``influxdb://``) and 2.x (``influxdb2://``).

Data model: measurement = metric, tags ``device_id`` and ``subject``, fields ``v`` (or ``x``, ``y``,
``z`` for 3-axis metrics), timestamps in milliseconds. InfluxDB keeps one point per series and
timestamp, so writing a chunk again overwrites it with the same values: writes are idempotent.

Writes go as line protocol, one HTTP request per `write` call (or one per 5,000 points for larger
writes, up to `PARALLEL_REQUESTS` of them at once: influxd parses and indexes concurrent requests on
several cores, one request at a time on one), to ``/write`` on 1.x (InfluxDB 1.6 has no
``/api/v2/write``, so influxdb-client's 1.x compatibility mode cannot be used there) and through
influxdb-client's synchronous write API with retries on 2.x. Reads are InfluxQL through ``/query``,
which 1.x, 2.x (v1 compatibility, virtual DBRP mappings since 2.2) and 3.x all answer.
Lines are built with one f-string per point from ``tolist()`` values: measured here at 2.0 million
points/s, against 0.9 million for numpy's ``np.char.add`` chains, and well above the 450,000-490,000
points/s an influxd 1.6 takes here (`aftercare bench`: the influxd write ceiling).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import unquote, urlsplit

import httpx
import numpy as np
from numpy.typing import NDArray

from store.timeseries.base import Chunk, SeriesData, StoreUnavailable, TimeSeriesConfigError, concat_sorted

log = logging.getLogger(__name__)

#: Points per HTTP write request; a larger `write` is split into requests of this size.
POINTS_PER_REQUEST = 5_000
PARALLEL_REQUESTS = 4
#: Rows per JSON chunk of a streamed `/query` answer.
_QUERY_CHUNK_ROWS = 10_000
#: The field names of a value: one number, or the axes of a 3-axis metric (accel, gyro).
_SCALAR_FIELD = "v"
_AXES = ("x", "y", "z")
_FIELD_REGEX = "/^(v|x|y|z)$/"
_MAX_TIME_MS = 9_223_372_036_853  # InfluxDB's largest time, 2262-04-11, in ms (rounded down)

_SCHEMES: dict[str, tuple[Literal[1, 2], str]] = {
    "influxdb": (1, "http"),
    "influxdbs": (1, "https"),
    "influxdb2": (2, "http"),
    "influxdb2s": (2, "https"),
}


class InfluxRequestError(RuntimeError):
    """InfluxDB refused a request for a reason retrying will not cure (bad line, type conflict).

    ``status`` is the HTTP status and ``detail`` InfluxDB's own message.
    """

    def __init__(self, what: str, status: int, detail: str) -> None:
        super().__init__(f"{what}: HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class CredentialsRefused(StoreUnavailable):
    """InfluxDB answered 401 or 403: the token or user is wrong, or lacks a permission."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class InfluxTarget:
    """What an ``influxdb[2][s]://[user:pass@]host[:port]/<database or bucket>`` URL names."""

    version: Literal[1, 2]
    base_url: str
    database: str
    username: str | None = None
    password: str | None = None

    @staticmethod
    def parse(url: str) -> InfluxTarget:
        parts = urlsplit(url)
        scheme = _SCHEMES.get(parts.scheme)
        if scheme is None:
            raise TimeSeriesConfigError(
                f"AFTERCARE_TIMESERIES_URL={_redact(url)!r}: scheme must be one of "
                f"{', '.join(s + '://' for s in _SCHEMES)}"
            )
        if not parts.hostname:
            raise TimeSeriesConfigError(f"AFTERCARE_TIMESERIES_URL={_redact(url)!r}: no host")
        try:
            port = parts.port or 8086
        except ValueError:
            raise TimeSeriesConfigError(f"AFTERCARE_TIMESERIES_URL={_redact(url)!r}: port must be 1..65535") from None
        database = unquote(parts.path.strip("/"))
        if not database:
            noun = "database" if scheme[0] == 1 else "bucket"
            raise TimeSeriesConfigError(
                f"AFTERCARE_TIMESERIES_URL={_redact(url)!r}: no {noun} (expected {parts.scheme}://host:port/<{noun}>)"
            )
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return InfluxTarget(
            version=scheme[0],
            base_url=f"{scheme[1]}://{host}:{port}",
            database=database,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        noun = "database" if self.version == 1 else "bucket"
        return f"InfluxDB {self.version}.x at {self.base_url} ({noun} {self.database!r})"


class InfluxTimeSeriesStore:
    """Telemetry in InfluxDB; safe to call from several threads (one pooled HTTP client).

    Nothing is contacted on construction: the database (1.x) or bucket (2.x) is created on first use,
    so the platform starts while InfluxDB is still down and `StoreUnavailable` says why meanwhile.
    """

    def __init__(
        self,
        target: InfluxTarget,
        *,
        token: str | None = None,
        org: str | None = None,
        timeout_s: float = 30.0,
        points_per_request: int = POINTS_PER_REQUEST,
        parallel_requests: int = PARALLEL_REQUESTS,
    ) -> None:
        if points_per_request < 1 or parallel_requests < 1:
            raise ValueError(
                f"points_per_request and parallel_requests must be at least 1: "
                f"{points_per_request}, {parallel_requests}"
            )
        self.target = target
        self.points_per_request = points_per_request
        self._posting = (
            ThreadPoolExecutor(parallel_requests, thread_name_prefix="influx-write") if parallel_requests > 1 else None
        )
        headers: dict[str, str] = {}
        auth: tuple[str, str] | None = None
        if target.version == 2:
            if not token:
                raise TimeSeriesConfigError(f"{target}: an influxdb2:// URL needs a token (AFTERCARE_INFLUX_TOKEN)")
            if not org:
                raise TimeSeriesConfigError(
                    f"{target}: an influxdb2:// URL needs an organization (AFTERCARE_INFLUX_ORG)"
                )
            headers["Authorization"] = f"Token {token}"
        elif target.username is not None:
            auth = (target.username, target.password or "")
        self._http = httpx.Client(
            base_url=target.base_url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            transport=httpx.HTTPTransport(retries=1),
        )
        self._v2: _V2Writer | None = (
            _V2Writer(target, token or "", org or "", timeout_s) if target.version == 2 else None
        )
        self._ready = False
        self._ready_lock = threading.Lock()
        self._dims: dict[str, int] = {}

    @classmethod
    def from_url(cls, url: str, *, token: str | None = None, org: str | None = None) -> InfluxTimeSeriesStore:
        """The store an ``influxdb://`` or ``influxdb2://`` URL names (token and org for 2.x)."""
        return cls(InfluxTarget.parse(url), token=token, org=org)

    def __repr__(self) -> str:
        return f"InfluxTimeSeriesStore({self.target})"

    # -- writing ---------------------------------------------------------------------------------

    def write(self, chunks: Sequence[Chunk]) -> int:
        lines: list[str] = []
        for chunk in chunks:
            try:
                lines.extend(chunk_lines(chunk))
            except ValueError as exc:
                # Not retryable, and one bad chunk must not hold up the batch: leave it out, loudly.
                log.error(
                    "leaving out chunk %s/%s/%s of %s: %s", chunk.device_id, chunk.seq, chunk.part, chunk.metric, exc
                )
                continue
            self._dims[chunk.metric] = 1 if chunk.values.ndim == 1 else int(chunk.values.shape[1])
        if not lines:
            return 0
        self._ensure_ready()
        step = self.points_per_request
        bodies = ["\n".join(lines[start : start + step]).encode() for start in range(0, len(lines), step)]
        post = self._v2.write if self._v2 is not None else self._write_v1
        if len(bodies) == 1 or self._posting is None:
            for body in bodies:
                post(body)
        else:  # all must succeed before the write counts; the first failure is raised (a retry rewrites all)
            for future in [self._posting.submit(post, body) for body in bodies]:
                future.result()
        return len(lines)

    def _write_v1(self, body: bytes) -> None:
        params = {"db": self.target.database, "precision": "ms"}
        try:
            resp = self._http.post("/write", params=params, content=body)
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"{self.target} is unreachable: {_describe(exc)}") from exc
        if resp.status_code < 300:
            return
        detail = _error_text(resp)
        if resp.status_code == 400 and "beyond retention policy" in detail and "conflict" not in detail:
            log.warning("%s dropped points older than its retention policy: %s", self.target, detail)
            return
        raise _status_error(self.target, "write", resp.status_code, detail)

    # -- reading ---------------------------------------------------------------------------------

    def read(self, subject: str, metric: str, start_ms: int, end_ms: int, every_ms: int | None = None) -> SeriesData:
        dims = self._dims.get(metric, 1)
        # InfluxDB's times are int64 nanoseconds: keep "from the beginning / until forever" in range.
        start_ms, end_ms = max(int(start_ms), -_MAX_TIME_MS), min(int(end_ms), _MAX_TIME_MS)
        if end_ms <= start_ms:
            return SeriesData.empty(dims)
        where = f"WHERE subject = {_literal(subject)} AND time >= {start_ms}ms AND time < {end_ms}ms"
        if every_ms is not None and every_ms > 0:
            query = (
                f"SELECT mean({_FIELD_REGEX}) FROM {_identifier(metric)} {where} "
                f"GROUP BY time({int(every_ms)}ms) fill(none)"
            )
            t_ms, values = self._select(query)
            if t_ms.shape[0] == 0:
                return SeriesData.empty(dims)
            return SeriesData(t_ms, values)
        t_ms, values = self._select(f"SELECT {_FIELD_REGEX} FROM {_identifier(metric)} {where} ORDER BY time ASC")
        if t_ms.shape[0] == 0:
            return SeriesData.empty(dims)
        # Two devices of one subject may share a timestamp: keep one sample per time, as SQLite does.
        return concat_sorted([SeriesData(t_ms, values)], start_ms, end_ms, 1 if values.ndim == 1 else 3)

    def latest(self, subject: str, metric: str) -> tuple[int, NDArray[np.float64]] | None:
        t_ms, values = self._select(
            f"SELECT {_FIELD_REGEX} FROM {_identifier(metric)} "
            f"WHERE subject = {_literal(subject)} ORDER BY time DESC LIMIT 1"
        )
        if t_ms.shape[0] == 0:
            return None
        return int(t_ms[0]), np.atleast_1d(values[0]).astype(np.float64)

    def _select(self, query: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Times and values of a one-series SELECT; values (n,) for field v, (n, 3) for x, y, z."""
        self._ensure_ready()
        rows: list[list[Any]] = []
        columns: list[str] = []
        for series in self._query(query):
            columns = series.get("columns", columns)
            rows.extend(series.get("values") or ())
        if not rows:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        table = np.array(rows, dtype=np.float64)
        t_ms = table[:, 0].astype(np.int64)
        fields = [c.removeprefix("mean_") for c in columns[1:]]
        if fields == [_SCALAR_FIELD]:
            return t_ms, table[:, 1]
        if fields == list(_AXES):
            return t_ms, table[:, 1:4]
        raise InfluxRequestError("query", 200, f"unexpected fields {fields} (expected v or x, y, z)")

    def _query(self, query: str, *, method: str = "GET") -> Iterator[dict[str, Any]]:
        """Run InfluxQL; yield each series object of the (chunked, streamed) JSON answer."""
        params = {
            "db": self.target.database,
            "q": query,
            "epoch": "ms",
            "chunked": "true",
            "chunk_size": str(_QUERY_CHUNK_ROWS),
        }
        try:
            with self._http.stream(method, "/query", params=params) as resp:
                if resp.status_code >= 300:
                    resp.read()
                    raise _status_error(self.target, "query", resp.status_code, _error_text(resp))
                for line in resp.iter_lines():
                    if not line.strip():
                        continue
                    answer = json.loads(line)
                    if "error" in answer:
                        raise InfluxRequestError("query", resp.status_code, str(answer["error"]))
                    for result in answer.get("results", ()):
                        if "error" in result:
                            raise InfluxRequestError("query", resp.status_code, str(result["error"]))
                        yield from result.get("series", ())
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"{self.target} is unreachable: {_describe(exc)}") from exc

    # -- lifecycle -------------------------------------------------------------------------------

    def _ensure_ready(self) -> None:
        """Create the database (1.x) or bucket (2.x) once; both are no-ops when it exists."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            if self._v2 is not None:
                self._v2.ensure_bucket()
            else:
                try:
                    for _ in self._query(f"CREATE DATABASE {_identifier(self.target.database)}", method="POST"):
                        pass
                except CredentialsRefused as exc:
                    if exc.status != 403:
                        raise
                    # A non-admin user may not create databases; an operator made it, or writes will say so.
                    log.warning(
                        "%s: not allowed to create the database, assuming it exists: %s", self.target, exc.reason
                    )
            self._ready = True
            log.info("%s ready", self.target)

    def ping(self) -> bool:
        try:
            return self._http.get("/ping").status_code < 300
        except httpx.TransportError:
            return False

    def close(self) -> None:
        if self._posting is not None:
            self._posting.shutdown(wait=True)
        self._http.close()
        if self._v2 is not None:
            self._v2.close()


class _V2Writer:
    """Writes to InfluxDB 2.x with influxdb-client's synchronous write API (retrying 429/5xx)."""

    def __init__(self, target: InfluxTarget, token: str, org: str, timeout_s: float) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS
        from urllib3.util.retry import Retry

        self.target = target
        self.org = org
        retries = Retry(
            total=3,
            connect=2,
            backoff_factor=0.2,
            allowed_methods=None,
            status_forcelist=(429, 500, 502, 503, 504),
            raise_on_status=False,
        )
        self._client = InfluxDBClient(
            url=target.base_url, token=token, org=org, timeout=int(timeout_s * 1000), retries=retries
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def ensure_bucket(self) -> None:
        with _v2_errors(self.target, "find or create the bucket"):
            buckets = self._client.buckets_api()
            if buckets.find_bucket_by_name(self.target.database) is None:  # type: ignore[no-untyped-call]
                buckets.create_bucket(bucket_name=self.target.database, org=self.org)
                log.info("%s: created the bucket", self.target)

    def write(self, body: bytes) -> None:
        from influxdb_client.domain.write_precision import WritePrecision

        with _v2_errors(self.target, "write"):
            self._write_api.write(
                bucket=self.target.database,
                org=self.org,
                record=body,
                write_precision=cast(WritePrecision, WritePrecision.MS),
            )

    def close(self) -> None:
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


@contextmanager
def _v2_errors(target: InfluxTarget, what: str) -> Iterator[None]:
    """Turn influxdb-client's and urllib3's exceptions into `StoreUnavailable` / `InfluxRequestError`."""
    from influxdb_client.rest import ApiException
    from urllib3.exceptions import HTTPError

    try:
        yield
    except ApiException as exc:
        detail = str(exc.message or exc.body or exc.reason).strip()
        raise _status_error(target, what, int(exc.status or 0), detail) from exc
    except (HTTPError, OSError) as exc:
        raise StoreUnavailable(f"{target} is unreachable ({what}): {exc}") from exc


# -- line protocol ---------------------------------------------------------------------------------


def chunk_lines(chunk: Chunk) -> list[str]:
    """The line-protocol lines of a chunk's samples (non-finite samples are left out, with a warning).

    Raises ValueError for a chunk InfluxDB cannot hold: values not (n,) or (n, 3), or a metric, subject
    or device id with a line break or backslash (ids of the contract and the API never have those).
    """
    t_ms = np.asarray(chunk.t_ms, dtype=np.int64)
    values = np.asarray(chunk.values, dtype=np.float64)
    if values.shape[0] != t_ms.shape[0]:
        raise ValueError(
            f"chunk {chunk.device_id}/{chunk.seq}/{chunk.part}: {t_ms.shape[0]} times but {values.shape[0]} values"
        )
    if values.ndim not in (1, 2) or (values.ndim == 2 and values.shape[1] != len(_AXES)):
        raise ValueError(
            f"chunk {chunk.device_id}/{chunk.seq}/{chunk.part}: values of shape {values.shape}; expected (n,) or (n, 3)"
        )
    finite = np.isfinite(values) if values.ndim == 1 else np.isfinite(values).all(axis=1)
    if not finite.all():
        log.warning(
            "chunk %s/%s/%s of %s: leaving out %s non-finite samples",
            chunk.device_id,
            chunk.seq,
            chunk.part,
            chunk.metric,
            int((~finite).sum()),
        )
        t_ms, values = t_ms[finite], values[finite]
    prefix = (
        f"{_escape_measurement(chunk.metric)},device_id={_escape_tag(chunk.device_id)},"
        f"subject={_escape_tag(chunk.subject)} "
    )
    times = t_ms.tolist()
    if values.ndim == 1:
        head = prefix + _SCALAR_FIELD + "="
        return [f"{head}{v!r} {t}" for v, t in zip(values.tolist(), times, strict=True)]
    return [f"{prefix}x={x!r},y={y!r},z={z!r} {t}" for (x, y, z), t in zip(values.tolist(), times, strict=True)]


def _escape_measurement(name: str) -> str:
    _refuse_unrepresentable(name, "metric")
    if "," in name or " " in name:
        return name.replace(",", "\\,").replace(" ", "\\ ")
    return name


def _escape_tag(value: str) -> str:
    if not value:
        raise ValueError("InfluxDB tags cannot be empty (subject and device_id are required)")
    _refuse_unrepresentable(value, "tag")
    if "," in value or "=" in value or " " in value:
        return value.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")
    return value


def _refuse_unrepresentable(value: str, what: str) -> None:
    """Line breaks cannot be written at all, and InfluxDB 1.x and 2.x read backslashes differently."""
    if "\n" in value or "\r" in value or "\\" in value:
        raise ValueError(f"InfluxDB line protocol cannot carry a line break or backslash in a {what}: {value[:80]!r}")


# -- InfluxQL and HTTP helpers ---------------------------------------------------------------------


def _identifier(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _error_text(resp: httpx.Response) -> str:
    try:
        answer = resp.json()
    except ValueError:
        return resp.text[:500]
    if isinstance(answer, dict):
        return str(answer.get("error") or answer.get("message") or answer)[:500]
    return str(answer)[:500]


def _status_error(target: InfluxTarget, what: str, status: int, detail: str) -> Exception:
    """An HTTP error status as the error the caller should see: retry later, or fix something."""
    if status in (401, 403):
        return CredentialsRefused(f"{target} refused our credentials ({what}, HTTP {status}): {detail}", status)
    if status == 0 or status == 429 or status >= 500:
        return StoreUnavailable(f"{target} failed to {what} (HTTP {status}): {detail}")
    return InfluxRequestError(f"{target} {what}", status, detail)


def _describe(exc: httpx.TransportError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url
