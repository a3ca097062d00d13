#!/usr/bin/env bash
# LocalStack ready hook: creates the FIFO queue and the progress table as the CDK app does,
# then seeds a few demo messages. Safe to run twice.
set -euo pipefail

queue_name="${FIFO_RELAY_QUEUE_NAME:-fifo-relay.fifo}"
table="${FIFO_RELAY_TABLE:-fifo-relay-progress}"
sources="${FIFO_RELAY_DEMO_SOURCES:-3}"
per_source="${FIFO_RELAY_DEMO_MESSAGES_PER_SOURCE:-5}"
table_json="${FIFO_RELAY_TABLE_JSON:-/etc/localstack/init/fifo-relay/progress-table.json}"
# Checked before anything is created, so a half-made setup never looks ready.
if [ ! -r "${table_json}" ]; then
  echo "fifo-relay: ${table_json} is missing: mount deploy/localstack/progress-table.json there" >&2
  exit 1
fi

# No RedrivePolicy, ever: the worker retries a message until the app accepts it.
queue_url="$(awslocal sqs create-queue --queue-name "${queue_name}" \
  --attributes '{
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
    "MessageRetentionPeriod": "1209600",
    "VisibilityTimeout": "30"
  }' --query QueueUrl --output text)"
echo "fifo-relay: queue ${queue_url}"

# The key schema and every index come from the table's one definition (src/adapters/table-indexes.ts),
# written to this file by infra/bin/write-localstack-table.ts; options given here override the file.
if ! awslocal dynamodb describe-table --table-name "${table}" >/dev/null 2>&1; then
  awslocal dynamodb create-table --cli-input-json "file://${table_json}" --table-name "${table}" >/dev/null
  awslocal dynamodb wait table-exists --table-name "${table}"
fi
echo "fifo-relay: table ${table}"

# Demo traffic: each source's messages carry an increasing producer seq and their own dedup id.
send_batch() { awslocal sqs send-message-batch --queue-url "${queue_url}" --entries "[${1%,}]" >/dev/null; }
for s in $(seq 1 "${sources}"); do
  entries=""
  count=0
  for n in $(seq 1 "${per_source}"); do
    entries+="{\"Id\":\"m${n}\",\"MessageBody\":\"{\\\"source\\\":\\\"demo-${s}\\\",\\\"n\\\":${n}}\",\"MessageGroupId\":\"demo-${s}\",\"MessageDeduplicationId\":\"demo-${s}-${n}\",\"MessageAttributes\":{\"seq\":{\"DataType\":\"Number\",\"StringValue\":\"${n}\"}}},"
    count=$((count + 1))
    # SQS takes at most 10 entries per batch.
    if [ "${count}" -eq 10 ]; then send_batch "${entries}"; entries=""; count=0; fi
  done
  if [ "${count}" -gt 0 ]; then send_batch "${entries}"; fi
done
echo "fifo-relay: seeded ${sources} sources x ${per_source} messages"
