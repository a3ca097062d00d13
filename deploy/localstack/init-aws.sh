#!/usr/bin/env bash
# LocalStack ready hook: creates the FIFO queue and the progress table the way the CDK app does,
# then seeds a few demo messages. Safe to run twice.
set -euo pipefail

queue_name="${FIFO_RELAY_QUEUE_NAME:-fifo-relay.fifo}"
table="${FIFO_RELAY_TABLE:-fifo-relay-progress}"
sources="${FIFO_RELAY_DEMO_SOURCES:-3}"
per_source="${FIFO_RELAY_DEMO_MESSAGES_PER_SOURCE:-5}"

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

if ! awslocal dynamodb describe-table --table-name "${table}" >/dev/null 2>&1; then
  awslocal dynamodb create-table --table-name "${table}" \
    --billing-mode PAY_PER_REQUEST \
    --attribute-definitions \
      AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S \
      AttributeName=stuck,AttributeType=S \
      AttributeName=stuckSince,AttributeType=N \
    --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
    --global-secondary-indexes '[{
      "IndexName": "stuck-by-since",
      "KeySchema": [
        {"AttributeName": "stuck", "KeyType": "HASH"},
        {"AttributeName": "stuckSince", "KeyType": "RANGE"}
      ],
      "Projection": {"ProjectionType": "ALL"}
    }]' >/dev/null
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
