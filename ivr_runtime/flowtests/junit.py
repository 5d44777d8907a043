"""Flow test results as JUnit XML, which CI systems show: a suite per test file, a case
per test, a failure per failed test with all of its reasons."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .runner import SuiteResult


def report(suites: list[tuple[str, SuiteResult]]) -> str:
    """`suites`: each test file's name and its results."""
    root = ET.Element("testsuites", name="callflow flow tests")
    root.set("tests", str(sum(len(s.tests) for _, s in suites)))
    root.set("failures", str(sum(s.failed for _, s in suites)))
    for file, suite in suites:
        element = ET.SubElement(
            root,
            "testsuite",
            name=f"{suite.flow} ({file})",
            tests=str(len(suite.tests)),
            failures=str(suite.failed),
            time=f"{sum(t.seconds for t in suite.tests):.3f}",
        )
        for test in suite.tests:
            case = ET.SubElement(
                element,
                "testcase",
                classname=suite.flow,
                name=test.name,
                time=f"{test.seconds:.3f}",
            )
            if not test.passed:
                failure = ET.SubElement(case, "failure", message=test.failures[0])
                failure.text = "\n".join(test.failures)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
