"""Service errors raised by handlers and rendered per wire protocol."""


class AwsError(Exception):
    def __init__(self, code, message, status=400, fields=None,
                 sender=True):
        Exception.__init__(self, "%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.sender = sender


def ec2(code, message, status=400):
    return AwsError(code, message, status)


class DryRunOK(AwsError):
    def __init__(self, service):
        if service == "ec2":
            AwsError.__init__(self, "DryRunOperation",
                              "Request would have succeeded, but DryRun "
                              "flag is set.", 412)
        else:
            AwsError.__init__(self, "DryRunOperationException",
                              "The request would have succeeded, but the "
                              "DryRun option is set.", 412)
