"""Run the unittest cases of a test module and report them as TAP.

A Python test file ends with:

    if __name__ == "__main__":
        import pytap; pytap.main()

and is executed directly by tests/run, which reads the TAP stream. Each
test method is one TAP point; failures and errors print their traceback
as TAP diagnostics (lines starting with '#').
"""
import sys
import unittest


class _TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0

    def _point(self, ok, test, detail=None, directive=""):
        self.n += 1
        name = test.id().split(".", 1)[-1]
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name,
                                directive), flush=True)
        if detail:
            for line in detail.rstrip().splitlines():
                print("#   " + line, flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._point(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._point(False, test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._point(False, test, self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        # A skip is reported as a failure: a check that does not run is a
        # defect in this project, not a pass.
        super().addSkip(test, reason)
        self._point(False, test, "skipped: " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._point(False, test, "expected failures are not allowed")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._point(False, test, "unexpected success")


def main(module="__main__"):
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[module])
    result = _TapResult()
    suite.run(result)
    print("1..%d" % result.n, flush=True)
    bad = len(result.failures) + len(result.errors) + len(result.skipped)
    bad += len(result.expectedFailures) + len(result.unexpectedSuccesses)
    sys.exit(1 if bad or result.n == 0 else 0)
