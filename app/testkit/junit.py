"""The session as JUnit XML for CI: one testcase per test, named as the test."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from app.testkit.schemas import TestSessionView


def junit_xml(view: TestSessionView, *, key_name: str) -> bytes:
    tests = view.tests
    failures = [t for t in tests if t.result in ("fail", "wait")]
    skipped = [t for t in tests if t.result in ("skip", "omit")]
    suite = ET.Element(
        "testsuite",
        {
            "name": "omnidoc-sandbox test kit",
            "tests": str(len(tests)),
            "failures": str(len(failures)),
            "errors": "0",
            "skipped": str(len(skipped)),
            "timestamp": view.started_at.isoformat(timespec="seconds"),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("session", view.id), ("key", key_name), ("status", view.status)):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for test in tests:
        case = ET.SubElement(
            suite, "testcase", {"name": test.name, "classname": "omnidoc_sandbox.test_kit"}
        )
        if test.result in ("fail", "wait"):
            failure = ET.SubElement(case, "failure", {"message": test.message, "type": test.result})
            failure.text = "\n".join(f"{e.kind} {e.id}: {e.summary}" for e in test.evidence)
        elif test.result in ("skip", "omit"):
            ET.SubElement(case, "skipped", {"message": test.message})
        lines = [f"requirements: {', '.join(test.requirements)}", f"{test.result}: {test.message}"]
        lines += [f"{e.kind} {e.id} {e.time.isoformat()}: {e.summary}" for e in test.evidence]
        ET.SubElement(case, "system-out").text = "\n".join(lines)
    suites = ET.Element("testsuites")
    suites.append(suite)
    return bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True))
