"""Wire models of the test kit (SPEC §9): requirements and test sessions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Timestamp, Uuid


class RequirementView(BaseModel):
    id: str = Field(examples=["OMD-CREATE-REQUEST"])
    source: Literal["omnidoc", "sandbox"]
    title: str
    text: str = Field(description="What the client must do and where it is said.")


class RequirementList(BaseModel):
    items: list[RequirementView]


class TestSessionBody(BaseModel):
    """Open a session; with `resilience` the sandbox answers the key's next create 503
    with `Retry-After: 2` and judges the client's next create."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(extra="forbid")

    resilience: bool = Field(default=False, strict=True)


class EvidenceView(BaseModel):
    kind: Literal["request", "delivery", "receiver_check"]
    id: str = Field(
        description="The item's id in the key's request journal, deliveries or receiver checks."
    )
    time: Timestamp
    summary: str = Field(description="Method, path, status, field names: never a value sent.")


class TestView(BaseModel):
    __test__ = False  # not a pytest class

    name: str
    requirements: list[str]
    optional: bool
    result: Literal["pass", "fail", "skip", "omit", "wait"]
    message: str
    evidence: list[EvidenceView]


class TestSessionView(BaseModel):
    __test__ = False  # not a pytest class

    id: Uuid
    status: Literal["running", "passed", "failed"]
    started_at: Timestamp
    finished_at: Timestamp | None
    tests: list[TestView]
