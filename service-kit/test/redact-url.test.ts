import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { redactUrl } from '../src/redact-url.js';

const SECRET_NAMES = ['token', 'key', 'password', 'secret', 'sig', 'signature', 'auth', 'access_token'];
const AMZ_NAMES = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
];

describe('redactUrl', () => {
  it('masks the password and keeps the user by default', () => {
    assert.equal(
      redactUrl('rtsp://admin:hunter2@10.0.0.7:8554/s?channel=2'),
      'rtsp://admin:***@10.0.0.7:8554/s?channel=2',
    );
    assert.equal(redactUrl('postgres://cp:s3cret@db:5432/fleet'), 'postgres://cp:***@db:5432/fleet');
  });

  it('drops the whole user info when asked (what leaves the device)', () => {
    assert.equal(
      redactUrl('rtsp://admin:hunter2@10.0.0.5:554/stream1', { hideUser: true }),
      'rtsp://10.0.0.5:554/stream1',
    );
    assert.equal(redactUrl('mqtts://device-7@cp.local:8883', { hideUser: true }), 'mqtts://cp.local:8883');
  });

  it('masks every secret-looking query parameter, in any case, and keeps the others', () => {
    for (const name of [...SECRET_NAMES, ...AMZ_NAMES, 'TOKEN', 'x-amz-signature', 'api_key', 'passwd']) {
      assert.equal(
        redactUrl(`https://h/p?channel=1&${name}=abc123&fps=5`),
        `https://h/p?channel=1&${name}=redacted&fps=5`,
        name,
      );
    }
    assert.equal(
      redactUrl('rtsp://10.0.0.5/s?user=a&password=b&channel=1'),
      'rtsp://10.0.0.5/s?user=a&password=redacted&channel=1',
    );
  });

  it('masks a token in the fragment', () => {
    assert.equal(redactUrl('https://h/cb#access_token=abc&state=1'), 'https://h/cb#access_token=redacted&state=1');
  });

  it('masks both the password and a token of one camera URI', () => {
    const shown = redactUrl('rtsp://admin:hunter2@cam.local:554/live?token=s3cr3t&channel=1');
    assert.equal(shown, 'rtsp://admin:***@cam.local:554/live?token=redacted&channel=1');
  });

  it('leaves URIs without credentials as they are, byte for byte', () => {
    for (const uri of [
      'rtsp://h:554/x',
      'mqtt://broker:1883',
      'dir:///data/seq',
      'synthetic://?schedule=day:300,fog:300~30&seed=7&width=320&height=240&fps=5',
      'file:///v/clip%20one.mkv?loop=true',
    ]) {
      assert.equal(redactUrl(uri), uri);
    }
  });

  it('copes with text that is not a URL', () => {
    assert.equal(redactUrl('/var/lib/edge/p@ss/video.mp4'), '/var/lib/edge/p@ss/video.mp4');
    assert.equal(redactUrl(''), '');
    assert.equal(redactUrl('postgres://cp:s3cret@[bad'), 'postgres://cp:***@[bad');
    assert.equal(redactUrl('not a url at all %%%'), 'not a url at all %%%');
    assert.equal(
      redactUrl('rtspsrc location="rtsp://u:pw@cam/live?token=t0k" latency=200 ! rtph264depay ! fakesink'),
      'rtspsrc location="rtsp://u:***@cam/live?token=redacted" latency=200 ! rtph264depay ! fakesink',
    );
    assert.equal(redactUrl('https://h/?%74oken=abc'), 'https://h/?%74oken=redacted');
    // A path that looks like a parameter (`&/=`) must not hide the real query from the scan (found by fast-check).
    assert.equal(redactUrl('http://a.aa/&/=?token=Zq++'), 'http://a.aa/&/=?token=redacted');
    assert.equal(redactUrl('https://h/?next=/a?token=t'), 'https://h/?next=/a?token=redacted');
    assert.equal(redactUrl('https://h/?%E0%A4%A=1'), 'https://h/?%E0%A4%A=1');
  });

  it('shows no password or secret parameter value of any URL (property)', () => {
    const secret = fc.string({ minLength: 6, maxLength: 20, unit: 'grapheme-ascii' }).map((s) => `Zq${s}`);
    fc.assert(
      fc.property(
        fc.webUrl(),
        fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
        secret,
        fc.constantFrom(...SECRET_NAMES, ...AMZ_NAMES),
        secret,
        fc.boolean(),
        (base, user, password, name, value, hideUser) => {
          const url = new URL(base);
          url.username = user;
          url.password = password;
          url.searchParams.append(name, value);
          const shown = redactUrl(url.href, { hideUser });
          assert.ok(!shown.includes(url.password), `${shown} shows the password`);
          const parsed = new URL(shown);
          assert.equal(parsed.username, hideUser ? '' : user);
          assert.equal(parsed.password, hideUser ? '' : '***');
          assert.equal(parsed.searchParams.get(name), 'redacted', shown);
        },
      ),
    );
  });

  it('never throws and leaves text without "://" or secret parameters unchanged (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const shown = redactUrl(text);
        if (!text.includes('://') && !/[?&#]/.test(text)) assert.equal(shown, text);
      }),
    );
  });
});
