/**
 * Drives Debian's chromium through puppeteer-core in a process of its own (puppeteer-core is an
 * ES module, which jest's CommonJS runtime cannot load). Reads one JSON command per stdin line
 * and answers each with one JSON line: { ok, value } or { ok: false, error }.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type Command =
  | { cmd: 'goto'; url: string }
  | { cmd: 'eval'; expression: string }
  | { cmd: 'waitFor'; expression: string; timeoutMs: number }
  | { cmd: 'screenshot'; path: string }
  | { cmd: 'close' };

async function main(): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'fifo-relay-chromium-'));
  let browser: Browser | undefined;
  let page: Page | undefined;
  const answer = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
  try {
    browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 760 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    answer({ ok: true, value: 'ready' });
    for await (const line of createInterface({ input: process.stdin })) {
      const c = JSON.parse(line) as Command;
      try {
        switch (c.cmd) {
          case 'goto':
            await page.goto(c.url, { waitUntil: 'load' });
            answer({ ok: true, value: null });
            break;
          case 'eval':
            answer({ ok: true, value: await page.evaluate(c.expression) });
            break;
          case 'waitFor':
            await page.waitForFunction(c.expression, { timeout: c.timeoutMs, polling: 200 });
            answer({ ok: true, value: null });
            break;
          case 'screenshot':
            await page.screenshot({ path: c.path as `${string}.png`, fullPage: true });
            answer({ ok: true, value: c.path });
            break;
          case 'close':
            answer({ ok: true, value: errors });
            return;
        }
      } catch (err) {
        answer({ ok: false, error: (err as Error).message, pageErrors: errors });
      }
    }
  } finally {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// stdin stays open as long as the parent lives: exit explicitly once the browser is closed.
main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stdout.write(`${JSON.stringify({ ok: false, error: err.message })}\n`);
    process.exit(1);
  },
);
