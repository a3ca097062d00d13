import { Annotations, CfnParameter, CfnRule, Fn, type Stack } from 'aws-cdk-lib';

export const ALLOW_PLACEHOLDERS_PARAMETER = 'AllowPlaceholders';

/**
 * A dry run (dryRun=true) may synthesize with placeholder settings, but must say so where
 * `cdk synth` and `cdk deploy` print it (a stack's annotations; the app root's are never shown)
 * and must not deploy by accident: CloudFormation evaluates the rule before it touches any
 * resource and refuses the change set unless the deployer passes the parameter on purpose.
 */
export function guardPlaceholders(stack: Stack, placeholders: string[]): void {
  if (placeholders.length === 0) return;
  const keys = placeholders.join(' and ');
  Annotations.of(stack).addWarningV2(
    'fifo-relay:placeholders',
    `context ${keys} not set (dryRun=true): this template holds placeholders and CloudFormation will refuse to deploy it ` +
      `unless --parameters ${stack.stackName}:${ALLOW_PLACEHOLDERS_PARAMETER}=true`,
  );
  const allow = new CfnParameter(stack, ALLOW_PLACEHOLDERS_PARAMETER, {
    type: 'String',
    default: 'false',
    allowedValues: ['false', 'true'],
    description: `fifo-relay was synthesized with placeholder ${keys}; set true only to deploy it anyway`,
  });
  new CfnRule(stack, 'RefusePlaceholders', {
    assertions: [
      {
        assert: Fn.conditionEquals(allow.valueAsString, 'true'),
        assertDescription: `fifo-relay: synthesized with placeholder ${keys} (dryRun=true); set them with -c, or pass ${ALLOW_PLACEHOLDERS_PARAMETER}=true to deploy anyway`,
      },
    ],
  });
}
