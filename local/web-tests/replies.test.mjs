// Browser tests of replies and of the upload conveniences in the web app
// served by chat-local, two (then three) users in headless Chromium:
// - Bob replies to Alice from the message menu and by swiping a row; Alice
//   sees the quotes live, opens the thread (which grows live) and jumps
//   from a quote to the original; a reply can be cancelled.
// - A reply whose target was deleted reads "Original message deleted", live
//   for the sender and in history for a member who comes back.
// - Alice drops a real PNG on the conversation and pastes another into the
//   message box; a progress bar shows each upload; Bob sees both images.
// axe-core (WCAG 2.1 AA) finds nothing with the reply bar, the menu, the
// thread and the upload tray on screen.
//
//   npm test --prefix local/web-tests

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  launchBrowser, messageWithBody, newUser, send, shot, signIn, startServer, STEP_MS, teardown,
} from './harness.mjs';
import { png } from './png.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let alice;
let bob;

before(async () => {
  await startServer();
  await launchBrowser();
  alice = await newUser('Alice');
  bob = await newUser('Bob');
  await signIn(alice, 'Alice');
  await signIn(bob, 'Bob');
});
after(teardown);

async function assertNoViolations(page, view) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const finite = document.getAnimations().filter((an) => an.effect && an.effect.getTiming().iterations !== Infinity);
    await Promise.all(finite.map((an) => an.finished.catch(() => {})));
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} (${n.failureSummary.split('\n').slice(1, 2).join('')})`).join('; ')}`);
  });
  assert.deepEqual(violations, [], `axe-core in view "${view}"`);
}

let direct = false;
/** Alice's direct room with Bob, open on both pages. */
async function openDirect() {
  if (!direct) {
    await alice.page.getByTestId('new-chat-button').click();
    await alice.page.getByTestId('new-chat-kind-direct').click();
    await alice.page.getByTestId('new-chat-user').fill('bob');
    await alice.page.getByTestId('new-chat-submit').click();
    await alice.page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
    await send(alice.page, 'hello Bob');
    await bob.page.getByTestId('room-item').first().click();
    await messageWithBody(bob.page, 'hello Bob').waitFor({ timeout: STEP_MS });
    direct = true;
  }
}

const quoteIn = (row) => row.getByTestId('reply-quote');

test('Bob replies from the menu and by a swipe; Alice sees the quotes live, the thread grows, a quote leads to its original', { timeout: 120_000 }, async () => {
  await openDirect();
  await send(alice.page, 'Lunch at noon?');
  await send(alice.page, 'Or at one?');
  const lunch = messageWithBody(bob.page, 'Lunch at noon?');
  await lunch.and(bob.page.locator('[data-seq]')).waitFor({ timeout: STEP_MS });

  // The menu: Reply puts the quote above the composer.
  await lunch.hover();
  await lunch.getByTestId('message-menu-button').click();
  await assertNoViolations(bob.page, 'message menu open');
  await bob.page.getByTestId('message-menu').getByTestId('message-reply').click();
  await bob.page.getByTestId('reply-bar-text').filter({ hasText: 'Lunch at noon?' }).waitFor({ timeout: STEP_MS });
  await assertNoViolations(bob.page, 'replying');
  await shot(bob, 'replies-composer.png');
  await send(bob.page, 'Noon works');
  await assert.doesNotReject(bob.page.getByTestId('reply-bar').waitFor({ state: 'hidden', timeout: STEP_MS }), 'the bar goes once sent');

  // Alice gets it live, quoted.
  const reply1 = messageWithBody(alice.page, 'Noon works');
  await quoteIn(reply1).waitFor({ timeout: STEP_MS });
  assert.match(await quoteIn(reply1).innerText(), /Lunch at noon\?/);
  assert.match(await quoteIn(reply1).innerText(), /You/, 'Alice sees her own message quoted as hers');

  // A swipe sideways on a row replies to it; the cancel button drops it.
  const swipe = async (row) => {
    const box = await row.getByTestId('message-body').boundingBox();
    const y = box.y + box.height / 2;
    await bob.page.mouse.move(box.x + 4, y);
    await bob.page.mouse.down();
    for (let dx = 10; dx <= 110; dx += 10) await bob.page.mouse.move(box.x + 4 + dx, y);
    await bob.page.mouse.up();
  };
  const one = messageWithBody(bob.page, 'Or at one?');
  await swipe(one);
  await bob.page.getByTestId('reply-bar-text').filter({ hasText: 'Or at one?' }).waitFor({ timeout: STEP_MS });
  await bob.page.getByTestId('reply-cancel').click();
  await bob.page.getByTestId('reply-bar').waitFor({ state: 'hidden', timeout: STEP_MS });
  await swipe(lunch);
  await bob.page.getByTestId('reply-bar-text').filter({ hasText: 'Lunch at noon?' }).waitFor({ timeout: STEP_MS });
  await send(bob.page, 'Or noon, really');
  const reply2 = messageWithBody(alice.page, 'Or noon, really');
  await quoteIn(reply2).waitFor({ timeout: STEP_MS });
  assert.match(await quoteIn(reply2).innerText(), /Lunch at noon\?/);
  await shot(alice, 'replies-live.png');
  // Bob's own copy (from the ack) shows the quote too.
  await quoteIn(messageWithBody(bob.page, 'Or noon, really')).waitFor({ timeout: STEP_MS });

  // The count under the original opens the thread.
  const original = messageWithBody(alice.page, 'Lunch at noon?');
  await original.getByTestId('message-replies').filter({ hasText: '2 replies' }).waitFor({ timeout: STEP_MS });
  await original.getByTestId('message-replies').click();
  const dialog = alice.page.getByTestId('thread-dialog');
  await dialog.getByTestId('thread-target').filter({ hasText: 'Lunch at noon?' }).waitFor({ timeout: STEP_MS });
  const replies = dialog.getByTestId('thread-reply');
  await replies.nth(1).waitFor({ timeout: STEP_MS });
  assert.deepEqual(await replies.locator('.thread-item-body').allInnerTexts(), ['Noon works', 'Or noon, really']);
  await assertNoViolations(alice.page, 'thread');
  await shot(alice, 'replies-thread.png');
  // A third reply arrives while the thread is open.
  await lunch.hover();
  await lunch.getByTestId('message-menu-button').click();
  await bob.page.getByTestId('message-menu').getByTestId('message-reply').click();
  await send(bob.page, 'Final answer: noon');
  await replies.nth(2).filter({ hasText: 'Final answer: noon' }).waitFor({ timeout: STEP_MS });
  await alice.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden', timeout: STEP_MS });

  // The quote leads to the original: it is marked and scrolled to.
  await quoteIn(reply1).click();
  await original.and(alice.page.locator('[data-search-target="true"]')).waitFor({ timeout: STEP_MS });
  assert.deepEqual([...alice.errors, ...bob.errors], [], 'no page errors');
});

test('a reply whose original was deleted reads "Original message deleted"', { timeout: 90_000 }, async () => {
  // Carol signs in once so that she can be added, then leaves the page.
  const first = await newUser('Carol');
  await signIn(first, 'Carol');
  await first.context.close();

  await alice.page.getByTestId('new-chat-button').click();
  await alice.page.getByTestId('new-chat-kind-group').click();
  await alice.page.getByTestId('new-chat-name').fill('Deleted quotes');
  await alice.page.getByTestId('new-chat-members').fill('carol');
  await alice.page.getByTestId('new-chat-submit').click();
  await alice.page.getByTestId('conversation-title').filter({ hasText: 'Deleted quotes' }).waitFor({ timeout: STEP_MS });
  await send(alice.page, 'Soon to be deleted');
  const target = messageWithBody(alice.page, 'Soon to be deleted');
  await target.and(alice.page.locator('[data-seq]')).waitFor({ timeout: STEP_MS });
  await target.hover();
  await target.getByTestId('message-menu-button').click();
  await alice.page.getByTestId('message-menu').getByTestId('message-reply').click();
  await send(alice.page, 'Answering it');
  await quoteIn(messageWithBody(alice.page, 'Answering it')).waitFor({ timeout: STEP_MS });

  // Alice deletes the original, after confirming: her own reply's quote
  // turns to "deleted" live, from the messageDeleted frame.
  await target.hover();
  await target.getByTestId('delete-button').click();
  await alice.page.getByTestId('delete-dialog').waitFor({ state: 'visible', timeout: STEP_MS });
  await alice.page.getByTestId('delete-confirm').click();
  await quoteIn(messageWithBody(alice.page, 'Answering it')).and(alice.page.locator('[data-deleted="true"]')).waitFor({ timeout: STEP_MS });

  // Carol comes back and reads the history the server serves now: the
  // original a tombstone, the reply's quote marked deleted by the server.
  const carol = await newUser('Carol');
  await signIn(carol, 'Carol');
  await carol.page.getByTestId('room-item').filter({ hasText: 'Deleted quotes' }).click();
  const quote = quoteIn(messageWithBody(carol.page, 'Answering it'));
  await quote.waitFor({ timeout: STEP_MS });
  const held = () => carol.page.evaluate(() => JSON.stringify(Array.from(document.querySelectorAll('[data-testid="message"]')).map((n) => [n.dataset.seq, n.innerText])));
  await quote.and(carol.page.locator('[data-deleted="true"]')).waitFor({ timeout: STEP_MS }).catch(async (e) => { console.error(await held()); throw e; });
  assert.match(await quote.innerText(), /Original message deleted/);
  assert.doesNotMatch(await quote.innerText(), /Soon to be deleted/, 'the deleted text is not quoted');
  // The tombstone itself offers no reply.
  const rows = carol.page.getByTestId('message-list').getByTestId('message');
  assert.equal(await rows.first().getByTestId('message-menu-button').count(), 0);
  await assertNoViolations(carol.page, 'deleted quote');
  assert.deepEqual(carol.errors, [], 'no page errors');
});

/** Records, in the page, every state and value each upload bar shows. */
async function watchUploads(page) {
  await page.evaluate(() => {
    window.__uploads = [];
    const note = (n) => {
      if (!(n instanceof Element) || n.dataset.testid !== 'upload-progress') return;
      window.__uploads.push({ file: n.dataset.file, state: n.dataset.state, value: Number(n.querySelector('progress').value) });
    };
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'childList') r.addedNodes.forEach(note);
        else note(r.target.closest && r.target.closest('[data-testid="upload-progress"]'));
      }
    }).observe(document.getElementById('upload-tray'), { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state', 'value'] });
  });
}

async function imageShown(page, alt) {
  const img = page.getByTestId('message-list').getByTestId('message-image').and(page.locator(`[alt^="${alt}"]`)).last();
  await img.waitFor({ timeout: STEP_MS });
  const deadline = Date.now() + STEP_MS;
  let s;
  do {
    s = await img.evaluate((i) => ({ complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, alt: i.alt }));
    if (s.complete && s.w > 0) return s;
    await page.waitForTimeout(100);
  } while (Date.now() < deadline);
  return s;
}

test('a PNG dropped on the conversation and one pasted into the message box upload with progress, and Bob sees both', { timeout: 120_000 }, async () => {
  await openDirect();
  await alice.page.getByTestId('room-item').filter({ hasText: /bob/i }).click();
  await bob.page.getByTestId('room-item').filter({ hasText: /alice/i }).click();
  await watchUploads(alice.page);
  const dropped = png(160, 120, [10, 120, 200]);
  // Drag and drop: the events a file dragged from the desktop fires.
  const zoneShown = await alice.page.evaluate(async ({ b64 }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    const view = document.getElementById('room-view');
    view.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    view.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    const shown = !document.querySelector('[data-testid="drop-zone"]').hidden;
    view.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    return shown;
  }, { b64: dropped.toString('base64') });
  assert.equal(zoneShown, true, 'the drop zone shows while a file is over the conversation');
  await alice.page.getByTestId('upload-progress').filter({ hasText: 'dropped.png' }).waitFor({ timeout: STEP_MS });
  await assertNoViolations(alice.page, 'upload tray');
  await shot(alice, 'uploads-tray.png');
  const s1 = await imageShown(bob.page, 'dropped.png');
  assert.deepEqual([s1.w, s1.h], [160, 120], JSON.stringify(s1));

  // Paste: a screenshot on the clipboard arrives as a nameless image.png.
  const pasted = png(40, 30, [200, 40, 90]);
  await alice.page.getByTestId('composer-input').evaluate((input, { b64 }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, { b64: pasted.toString('base64') });
  const s2 = await imageShown(bob.page, 'pasted-');
  assert.deepEqual([s2.w, s2.h], [40, 30], JSON.stringify(s2));
  assert.equal(await alice.page.getByTestId('composer-input').inputValue(), '', 'nothing pasted as text');

  // Each bar went from uploading to done at 100 %.
  const seen = await alice.page.evaluate(() => window.__uploads);
  for (const name of ['dropped.png', 'pasted-']) {
    const mine = seen.filter((u) => u.file.startsWith(name));
    // The upload's own progress events moved the bar before it was done.
    assert.ok(mine.some((u) => u.state === 'uploading' && u.value > 0), `${name}: progress shown while uploading: ${JSON.stringify(mine)}`);
    assert.ok(mine.some((u) => u.state === 'done' && u.value === 100), `${name}: done at 100 %: ${JSON.stringify(mine)}`);
  }
  assert.deepEqual([...alice.errors, ...bob.errors], [], 'no page errors');
});
