// Browser test of blocking in the web app served by chat-local: in a group
// they share, Bob blocks Alice from the member list; Alice's next message
// shows on Bob's page as a "hidden message from a blocked user" row that
// opens on request, and Alice cannot start a direct conversation with Bob
// (the page says why). Unblocking shows her messages again.
//
//   npm test --prefix local/web-tests
//
// Env as harness.mjs: CHAT_LOCAL_BIN, CHROMIUM_BIN, CHAT_LOCAL_TEMPLATE,
// CHAT_LOCAL_ARGS.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, messageWithBody, newUser as openPage, send, shot, signIn, startServer, STEP_MS, teardown,
} from './harness.mjs';

let server = null;
after(teardown);

async function newUser(name) {
  const user = await openPage(name);
  user.page.on('dialog', (d) => d.accept());
  await signIn(user, name);
  return user;
}

/** A console error other than the browser's own line for a refused request. */
const unexpected = (errors) => errors.filter((e) => !/status of 403/.test(e));

test('a blocked person\'s messages are hidden in a shared group, and no direct conversation opens', { timeout: 180_000 }, async (t) => {
  server = await startServer();
  t.diagnostic(`chat-local at ${server.url}`);
  await launchBrowser();
  const alice = await newUser('Alice');
  const bob = await newUser('Bob');
  const users = [alice, bob];
  try {
    // Alice starts the group from the new-conversation dialog.
    await alice.page.getByTestId('new-chat-button').click();
    await alice.page.getByTestId('new-chat-kind-group').click();
    await alice.page.getByTestId('new-chat-name').fill('Book club');
    await alice.page.getByTestId('new-chat-members').fill('bob');
    await alice.page.getByTestId('new-chat-submit').click();
    await alice.page.getByTestId('conversation-title').filter({ hasText: 'Book club' }).waitFor({ timeout: STEP_MS });
    const item = bob.page.getByTestId('room-item').filter({ hasText: 'Book club' });
    await item.waitFor({ timeout: STEP_MS });
    await item.click();
    await bob.page.getByTestId('conversation-title').filter({ hasText: 'Book club' }).waitFor({ timeout: STEP_MS });

    // Bob mutes Alice from the member list (her messages notify him nowhere),
    // then blocks her.
    await bob.page.getByTestId('members-button').click();
    const aliceRow = bob.page.locator('[data-testid="member-item"][data-user-id="alice"]');
    await aliceRow.getByTestId('mute-user').click();
    await aliceRow.getByTestId('unmute-user').waitFor({ timeout: STEP_MS });
    const policy = await bob.page.evaluate(async () => {
      const token = (JSON.parse(sessionStorage.getItem('chat.auth.v1') || 'null') || {}).idToken;
      return (await fetch('/users/me/notifications', { headers: { authorization: `Bearer ${token}` } })).json();
    });
    assert.deepEqual(policy.mutedUsers, ['alice']);
    await aliceRow.getByTestId('block-user').click();
    await aliceRow.getByTestId('unblock-user').waitFor({ timeout: STEP_MS });
    const blocks = await bob.page.evaluate(async () => {
      const token = (JSON.parse(sessionStorage.getItem('chat.auth.v1') || 'null') || {}).idToken;
      return (await fetch('/users/me/blocks', { headers: { authorization: `Bearer ${token}` } })).json();
    });
    assert.deepEqual(blocks.blocks.map((b) => b.userId), ['alice']);
    await bob.page.keyboard.press('Escape');

    // Alice's message reaches Bob hidden; he opens it on request.
    const spoiler = 'The butler did it, chapter 12';
    await send(alice.page, spoiler);
    const hidden = bob.page.getByTestId('hidden-message').filter({ has: bob.page.locator('text=Hidden message from a blocked user') });
    await hidden.waitFor({ timeout: STEP_MS });
    assert.equal(await hidden.getAttribute('data-sender'), 'alice');
    assert.equal(await messageWithBody(bob.page, spoiler).count(), 0, 'the body is not on the page');
    const preview = bob.page.getByTestId('room-item').filter({ hasText: 'Book club' });
    assert.match(await preview.textContent(), /Hidden message from a blocked user/);
    assert.doesNotMatch(await preview.textContent(), /butler/);
    await shot(bob, 'blocks-hidden.png');
    await hidden.getByTestId('reveal-message').click();
    await messageWithBody(bob.page, spoiler).waitFor({ timeout: STEP_MS });
    await shot(bob, 'blocks-revealed.png');

    // Alice cannot open a direct conversation with Bob: the page says why.
    await alice.page.getByTestId('new-chat-button').click();
    await alice.page.getByTestId('new-chat-kind-direct').click();
    await alice.page.getByTestId('new-chat-user').fill('bob');
    await alice.page.getByTestId('new-chat-submit').click();
    await alice.page.getByTestId('new-chat-error').filter({ hasText: 'does not accept direct messages from you' }).waitFor({ timeout: STEP_MS });
    await shot(alice, 'blocks-direct-refused.png');
    await alice.page.keyboard.press('Escape');

    // Unblocked, her next message shows as any other.
    await bob.page.getByTestId('members-button').click();
    await aliceRow.getByTestId('unblock-user').click();
    await aliceRow.getByTestId('block-user').waitFor({ timeout: STEP_MS });
    await bob.page.keyboard.press('Escape');
    const later = 'No spoilers next time, promise';
    await send(alice.page, later);
    await messageWithBody(bob.page, later).waitFor({ timeout: STEP_MS });

    for (const u of users) assert.deepEqual(unexpected(u.errors), [], `${u.name}'s page logged no errors`);
    if (process.env.CHAT_LOCAL_TEMPLATE) {
      const { denied } = await (await fetch(`${server.url}/dev/denied`)).json();
      assert.deepEqual(denied, [], 'IAM denied calls of the stack about to deploy');
    }
  } catch (e) {
    for (const u of users) {
      try { if (!u.page.isClosed()) await shot(u, `blocks-failure-${u.name.toLowerCase()}.png`); } catch { /* best effort */ }
    }
    const tail = server ? server.output.slice(-60).join('\n') : '';
    e.message += `\n--- errors: ${JSON.stringify(users.map((u) => u.errors))}\n--- chat-local output (tail):\n${tail}`;
    throw e;
  }
});
