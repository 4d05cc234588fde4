# Moss: a clean-room implementation of the Greengrass V1 core's Python runtime interface, written from the
# protocol description (Greengrass V1 IPC, §3.4 of the project's reference). It contains no AWS code.
"""Lambda function ARNs: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.

`greengrasssdk` 1.6.1 (`Lambda.Client.invoke`) uses exactly three things from here:

* `FunctionArnFields(arn)`, which raises `ValueError` for a string that is not a function ARN;
* the instance attributes `qualifier` (`''` when the ARN has none) and `unqualified_arn`;
* `FunctionArnFields.build_function_arn(unqualified_arn, qualifier)`, a static method that appends
  `:qualifier` when the qualifier is not empty.

Region and account may be empty, as in the core's own functions (`arn:aws:lambda:::function:GGRouter`), and the
account may be `aws` (the ML inference services, `arn:aws:lambda:REGION:aws:function:GG-ML-INF-…`).
"""

import re

_ARN_PATTERN = re.compile(
    r'^arn:(?P<partition>aws(?:-[a-z0-9]+)*)'
    r':lambda'
    r':(?P<region>[a-z0-9-]*)'
    r':(?P<account_id>[0-9]{12}|aws|)'
    r':function'
    r':(?P<name>[A-Za-z0-9_-]{1,140})'
    r'(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$'
)


class FunctionArnFields(object):
    """The fields of one function ARN. Attributes: arn, partition, service ('lambda'), region, account_id, name
    (also function_name), qualifier ('' when absent), unqualified_arn and qualified (bool)."""

    def __init__(self, function_arn):
        if not isinstance(function_arn, str):
            raise ValueError('a function ARN must be a string, not {}'.format(type(function_arn).__name__))
        match = _ARN_PATTERN.match(function_arn)
        if match is None:
            raise ValueError('{!r} is not a Lambda function ARN '
                             '(arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])'.format(function_arn))
        self.arn = function_arn
        self.partition = match.group('partition')
        self.service = 'lambda'
        self.region = match.group('region')
        self.account_id = match.group('account_id')
        self.name = match.group('name')
        self.qualifier = match.group('qualifier') or ''
        self.unqualified_arn = 'arn:{}:lambda:{}:{}:function:{}'.format(
            self.partition, self.region, self.account_id, self.name)

    @property
    def function_name(self):
        return self.name

    @property
    def qualified(self):
        return self.qualifier != ''

    @staticmethod
    def build_function_arn(unqualified_arn, qualifier=None):
        """`unqualified_arn:qualifier`, or `unqualified_arn` itself when the qualifier is empty or None."""
        if qualifier:
            return '{}:{}'.format(unqualified_arn, qualifier)
        return unqualified_arn

    @staticmethod
    def build_arn_string(partition, region, account_id, name, qualifier=None):
        """Builds an ARN from its fields, e.g. ('aws', 'us-east-1', '000000000000', 'repub', '1')."""
        unqualified = 'arn:{}:lambda:{}:{}:function:{}'.format(partition, region, account_id, name)
        return FunctionArnFields.build_function_arn(unqualified, qualifier)

    def __repr__(self):
        return 'FunctionArnFields({!r})'.format(self.arn)

    def __eq__(self, other):
        return isinstance(other, FunctionArnFields) and other.arn == self.arn

    def __hash__(self):
        return hash(self.arn)
