// Browser test of edits, deletes and reactions in the web app served by
// chat-local: Alice edits her last message with the Up arrow, reacts and
// deletes (with the confirmation dialog), and Bob sees each live; then Bob
// is away while Alice edits, reacts and deletes, and sees it all once his
// page reconnects (sync with the change cursor). axe-core finds nothing
// with reactions shown and with the delete dialog open.
//
//   npm test --prefix local/web-tests
//
// Env as harness.mjs: CHAT_LOCAL_BIN, CHROMIUM_BIN, CHAT_LOCAL_TEMPLATE,
// CHAT_LOCAL_ARGS.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  launchBrowser, messageWithBody, newUser, send, shot, signIn, startServer, STEP_MS, teardown, waitForAttr,
} from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

after(teardown);

async function user(name, opts) {
  const u = await newUser(name, opts);
  await signIn(u, name);
  return u;
}

async function axe(page, view) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const finite = document.getAnimations().filter((an) => an.effect && an.effect.getTiming().iterations !== Infinity);
    await Promise.all(finite.map((an) => an.finished.catch(() => {})));
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  });
  assert.deepEqual(violations, [], `axe-core in view "${view}"`);
}

/** A direct room of alice and bob, opened on both pages. */
async function directRoom(alice, bob) {
  await alice.page.getByTestId('new-chat-button').click();
  await alice.page.getByTestId('new-chat-kind-direct').click();
  await alice.page.getByTestId('new-chat-user').fill('bob');
  await alice.page.getByTestId('new-chat-submit').click();
  await alice.page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
  await send(alice.page, 'first hello');
  await bob.page.getByTestId('room-item').first().click();
  await messageWithBody(bob.page, 'first hello').waitFor({ timeout: STEP_MS });
}

/** The message row with this seq. */
function row(page, seq) {
  return page.getByTestId('message-list').locator(`[data-testid="message"][data-seq="${seq}"]`);
}

async function seqOf(page, body) {
  const m = messageWithBody(page, body);
  await waitForAttr(m, 'data-status', ['sent', 'delivered', 'read'], `"${body}" acked`);
  return m.getAttribute('data-seq');
}

async function react(page, seq, emoji) {
  const r = row(page, seq);
  await r.hover();
  await r.getByTestId('react-button').click();
  await page.getByTestId('reaction-picker').locator(`[data-emoji="${emoji}"]`).click();
}

async function chip(page, seq, emoji, count, what) {
  const c = row(page, seq).locator(`[data-testid="reaction-chip"][data-emoji="${emoji}"]`);
  await waitForAttr(c, 'data-count', String(count), what);
  return c;
}

async function deleteMessage(page, seq) {
  const r = row(page, seq);
  await r.hover();
  await r.getByTestId('delete-button').click();
  await page.getByTestId('delete-dialog').waitFor({ state: 'visible', timeout: STEP_MS });
  await page.getByTestId('delete-confirm').click();
}

test('one user edits, reacts and deletes; the other sees each live', { timeout: 180_000 }, async () => {
  await startServer();
  await launchBrowser();
  const alice = await user('Alice');
  const bob = await user('Bob');
  await directRoom(alice, bob);

  await send(alice.page, 'helo bob');
  const seq = await seqOf(alice.page, 'helo bob');
  await messageWithBody(bob.page, 'helo bob').waitFor({ timeout: STEP_MS });

  // Up in the empty composer edits the last message; Enter saves.
  const input = alice.page.getByTestId('composer-input');
  await input.click();
  await input.press('ArrowUp');
  await alice.page.getByTestId('edit-banner').waitFor({ state: 'visible', timeout: STEP_MS });
  assert.equal(await input.inputValue(), 'helo bob');
  await input.fill('hello bob');
  await input.press('Enter');
  await row(bob.page, seq).getByTestId('message-edited').waitFor({ timeout: STEP_MS });
  assert.equal(await row(bob.page, seq).getByTestId('message-body').textContent(), 'hello bob');
  await row(alice.page, seq).getByTestId('message-edited').waitFor({ timeout: STEP_MS });
  assert.ok(await alice.page.getByTestId('edit-banner').isHidden(), 'the edit mode ended');

  // Bob reacts with the picker; Alice sees the chip and adds hers by it.
  await react(bob.page, seq, '👍');
  const onAlice = await chip(alice.page, seq, '👍', 1, 'alice sees bob\'s reaction');
  assert.equal(await onAlice.getAttribute('aria-pressed'), 'false');
  await onAlice.click();
  const onBob = await chip(bob.page, seq, '👍', 2, 'bob sees alice join the reaction');
  assert.equal(await onBob.getAttribute('aria-pressed'), 'true');
  // Toggling again takes bob's away.
  await onBob.click();
  await chip(alice.page, seq, '👍', 1, 'alice sees bob\'s reaction gone');
  await axe(bob.page, 'conversation with reactions');

  // Alice deletes a message, after confirming.
  await send(alice.page, 'oops, wrong chat');
  const gone = await seqOf(alice.page, 'oops, wrong chat');
  await messageWithBody(bob.page, 'oops, wrong chat').waitFor({ timeout: STEP_MS });
  const r = row(alice.page, gone);
  await r.hover();
  await r.getByTestId('delete-button').click();
  await alice.page.getByTestId('delete-dialog').waitFor({ state: 'visible', timeout: STEP_MS });
  await axe(alice.page, 'delete confirmation');
  await alice.page.getByTestId('delete-confirm').click();
  await row(bob.page, gone).getByTestId('message-deleted').waitFor({ timeout: STEP_MS });
  assert.equal(await messageWithBody(bob.page, 'oops, wrong chat').count(), 0, 'the body is gone');
  await row(alice.page, gone).getByTestId('message-deleted').waitFor({ timeout: STEP_MS });
  await shot(bob, 'changes-live-bob.png');
  assert.deepEqual([...alice.errors, ...bob.errors], [], 'no page errors');
});

test('a user who was offline sees the edit, delete and reaction after reconnecting', { timeout: 180_000 }, async () => {
  await teardown();
  await startServer();
  await launchBrowser();
  const alice = await user('Alice');
  const bob = await user('Bob', { controlSockets: true });
  await directRoom(alice, bob);
  await send(alice.page, 'to be edited');
  await send(alice.page, 'to be deleted');
  const edited = await seqOf(alice.page, 'to be edited');
  const deleted = await seqOf(alice.page, 'to be deleted');
  await messageWithBody(bob.page, 'to be deleted').waitFor({ timeout: STEP_MS });

  // Bob's network goes: his socket closes and reconnects are refused.
  await bob.page.evaluate(() => { window.__blockWs = true; for (const s of window.__sockets) s.close(); });
  await waitForAttr(bob.page.getByTestId('connection-status'), 'data-state', ['offline', 'connecting'], 'bob is offline');

  const input = alice.page.getByTestId('composer-input');
  await input.click();
  await input.press('ArrowUp');
  await alice.page.getByTestId('edit-banner').waitFor({ state: 'visible', timeout: STEP_MS });
  // Up edits the newest: the one to delete. Cancel with Escape, edit the other by its menu.
  await input.press('Escape');
  assert.ok(await alice.page.getByTestId('edit-banner').isHidden());
  const first = row(alice.page, edited);
  await first.hover();
  await first.getByTestId('edit-button').click();
  await input.fill('edited while you were away');
  await input.press('Enter');
  await row(alice.page, edited).getByTestId('message-edited').waitFor({ timeout: STEP_MS });
  await react(alice.page, edited, '🎉');
  await chip(alice.page, edited, '🎉', 1, 'alice\'s reaction shows');
  await deleteMessage(alice.page, deleted);
  await row(alice.page, deleted).getByTestId('message-deleted').waitFor({ timeout: STEP_MS });
  // Still the old state on bob's page.
  assert.equal(await row(bob.page, edited).getByTestId('message-body').textContent(), 'to be edited');

  // Back online: the reconnect's sync brings the changes.
  await bob.page.evaluate(() => { window.__blockWs = false; });
  await waitForAttr(bob.page.getByTestId('connection-status'), 'data-state', 'online', 'bob is back');
  await row(bob.page, edited).getByTestId('message-edited').waitFor({ timeout: STEP_MS });
  assert.equal(await row(bob.page, edited).getByTestId('message-body').textContent(), 'edited while you were away');
  const c = await chip(bob.page, edited, '🎉', 1, 'bob sees the reaction made while away');
  assert.equal(await c.getAttribute('aria-pressed'), 'false');
  await row(bob.page, deleted).getByTestId('message-deleted').waitFor({ timeout: STEP_MS });
  // The room list's preview follows: the last message is a tombstone now.
  await bob.page.getByTestId('room-item').filter({ hasText: 'Message deleted' }).waitFor({ timeout: STEP_MS });
  await shot(bob, 'changes-after-reconnect-bob.png');
  // The refused reconnects (the blocked port) are the only console errors.
  const blocked = (e) => e.includes('ws://127.0.0.1:9/');
  assert.deepEqual([...alice.errors, ...bob.errors.filter((e) => !blocked(e))], [], 'no page errors');
});
