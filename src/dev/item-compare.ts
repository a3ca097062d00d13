import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue | Record<string, unknown>>;

function canonicalValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(canonicalValue);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) {
      // Sets have no order: compare them sorted.
      const x = o[k];
      out[k] = (k === 'SS' || k === 'NS') && Array.isArray(x) ? [...(x as string[])].sort() : k === 'BS' && Array.isArray(x) ? (x as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')).sort() : canonicalValue(x);
    }
    return out;
  }
  return v;
}

/** One text per item content, whatever order its attributes arrived in. */
export function canonicalItem(item: Item): string {
  return JSON.stringify(canonicalValue(item));
}

/**
 * A condition true only while the item is exactly `believed` (every attribute equal), or absent
 * when `believed` is undefined. An attribute added by a write the replicator has not seen yet is
 * not caught when every other attribute is unchanged; the program's writes always change one.
 */
export function itemCondition(believed: Item | undefined, keyName: string): { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } {
  if (!believed) return { ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': keyName } };
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  const parts = Object.entries(believed).map(([name, value], i) => {
    names[`#a${i}`] = name;
    values[`:v${i}`] = value as AttributeValue;
    return `#a${i} = :v${i}`;
  });
  return { ConditionExpression: parts.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}
