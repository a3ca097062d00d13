import { Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';

const ECR_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([^@]+)|@(sha256:[0-9a-f]{64}))$/;

/** The region of a private ECR image URI, undefined for any other registry (public.ecr.aws included). */
export function ecrRegionOf(uri: string): string | undefined {
  return ECR_URI.exec(uri)?.[2];
}

/**
 * An ECR image goes through the repository so the execution role is granted the pull; any
 * other URI is pulled as given. Neither needs Docker or AWS access at synth time.
 */
export function containerImage(scope: Construct, uri: string): { image: ecs.ContainerImage; fromEcr: boolean } {
  const m = ECR_URI.exec(uri);
  if (!m) return { image: ecs.ContainerImage.fromRegistry(uri), fromEcr: false };
  const [, account, region, name, tag, digest] = m as unknown as [string, string, string, string, string | undefined, string | undefined];
  const repositoryArn = Stack.of(scope).formatArn({ service: 'ecr', account, region, resource: 'repository', resourceName: name });
  const repository = ecr.Repository.fromRepositoryAttributes(scope, 'ImageRepository', { repositoryArn, repositoryName: name });
  return { image: ecs.ContainerImage.fromEcrRepository(repository, tag ?? digest), fromEcr: true };
}
