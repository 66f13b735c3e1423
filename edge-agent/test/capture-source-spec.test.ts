import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EdgeError } from '../src/errors.js';
import { redactUrl } from '@edgefleet/service-kit';
import { isLiveSpec, parseSourceSpec, type SourceSpec } from '../src/capture/source-spec.js';

function uriError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EdgeError, `expected EdgeError, got ${String(err)}`);
    assert.equal(err.code, 'EDGE_ERR_SOURCE_URI');
    assert.match(err.message, pattern);
    return true;
  });
}

function kindOf<K extends SourceSpec['kind']>(spec: SourceSpec, kind: K): Extract<SourceSpec, { kind: K }> {
  assert.equal(spec.kind, kind);
  return spec as Extract<SourceSpec, { kind: K }>;
}

describe('parseSourceSpec', () => {
  it('reads a video file URI with percent-decoding, loop and realtime', () => {
    const s = kindOf(parseSourceSpec('file:///videos/gate%20cam.mp4', { loop: true, realtime: true }), 'file');
    assert.equal(s.path, '/videos/gate cam.mp4');
    assert.equal(s.container, 'mp4');
    assert.equal(s.loop, true);
    assert.equal(s.realtime, true);
    assert.equal(s.platform, 'generic');
    assert.equal(isLiveSpec(s), true, 'a realtime file is paced like a live source');
  });

  it('treats a bare absolute path as a file and a non-realtime file as on-demand', () => {
    const s = kindOf(parseSourceSpec('/data/clip.avi'), 'file');
    assert.equal(s.path, '/data/clip.avi');
    assert.equal(s.container, 'avi');
    assert.equal(isLiveSpec(s), false);
  });

  it('reads a still image with fps from the query', () => {
    const s = kindOf(parseSourceSpec('file:///img/dog.JPG?fps=2&loop=true'), 'image');
    assert.equal(s.codec, 'jpeg');
    assert.equal(s.fps, 2);
    assert.equal(s.loop, true);
  });

  it('reads dir:// and file globs as image sequences', () => {
    const d = kindOf(parseSourceSpec('dir:///frames/cam1?fps=5'), 'image-sequence');
    assert.equal(d.dir, '/frames/cam1');
    assert.equal(d.glob, null);
    assert.equal(d.fps, 5);
    const g = kindOf(parseSourceSpec('file:///frames/cam1/*.png', { fps: 7.5 }), 'image-sequence');
    assert.equal(g.dir, '/frames/cam1');
    assert.equal(g.glob, '*.png');
    assert.equal(g.fps, 7.5);
    assert.equal(g.realtime, false);
  });

  it('keeps an RTSP URI verbatim (its query belongs to the camera) and redacts the password for display', () => {
    const uri = 'rtsp://admin:s3cret@10.0.0.7:8554/stream1?channel=2';
    const s = kindOf(parseSourceSpec(uri, { latencyMs: 100, transport: 'udp' }), 'rtsp');
    assert.equal(s.uri, uri);
    assert.equal(s.displayUri, 'rtsp://admin:***@10.0.0.7:8554/stream1?channel=2');
    assert.equal(s.latencyMs, 100);
    assert.equal(s.transport, 'udp');
    assert.equal(s.codec, 'auto');
    assert.equal(isLiveSpec(s), true);
  });

  it('defaults RTSP to TCP with 200 ms latency', () => {
    const s = kindOf(parseSourceSpec('rtsps://cam.local/live'), 'rtsp');
    assert.equal(s.transport, 'tcp');
    assert.equal(s.latencyMs, 200);
  });

  it('reads V4L2 devices with size, fps and format', () => {
    const s = kindOf(parseSourceSpec('v4l2:///dev/video2?width=1280&height=720&fps=30&format=mjpeg'), 'v4l2');
    assert.deepEqual([s.device, s.width, s.height, s.fps, s.format], ['/dev/video2', 1280, 720, 30, 'mjpeg']);
    const raw = kindOf(parseSourceSpec('v4l2:///dev/video0', { format: 'YUY2' }), 'v4l2');
    assert.deepEqual([raw.width, raw.height, raw.fps, raw.format], [null, null, null, 'YUY2']);
  });

  it('reads CSI sensors only on Jetson', () => {
    const s = kindOf(parseSourceSpec('csi://1?fps=60', { platform: 'jetson' }), 'csi');
    assert.deepEqual([s.sensorId, s.width, s.height, s.fps], [1, 1920, 1080, 60]);
    uriError(() => parseSourceSpec('csi://0'), /platform: 'jetson'/);
  });

  it('reads the test pattern with its defaults and options', () => {
    const s = kindOf(parseSourceSpec('testsrc://?pattern=ball&fps=10&width=640&height=480'), 'testsrc');
    assert.deepEqual([s.pattern, s.fps, s.width, s.height], ['ball', 10, 640, 480]);
    const d = kindOf(parseSourceSpec('testsrc://'), 'testsrc');
    assert.deepEqual([d.pattern, d.fps, d.width, d.height], ['smpte', 10, 640, 480]);
  });

  it('lets the options object override query parameters', () => {
    const s = kindOf(parseSourceSpec('testsrc://?fps=10', { fps: 25 }), 'testsrc');
    assert.equal(s.fps, 25);
  });

  it('rejects an unsupported scheme, naming the supported ones', () => {
    uriError(() => parseSourceSpec('http://cam/video.mjpg'), /unsupported scheme 'http:\/\/'.*rtsp:\/\//);
  });

  it('rejects malformed and relative sources', () => {
    uriError(() => parseSourceSpec(''), /empty/);
    uriError(() => parseSourceSpec('video.mp4'), /not a URI/);
    uriError(() => parseSourceSpec('file://relative/video.mp4'), /absolute/);
    uriError(() => parseSourceSpec('dir://host/x'), /host part must be empty/);
    uriError(() => parseSourceSpec('rtsp:///nohost'), /no host/);
  });

  it('rejects options that do not apply to the kind, unknown parameters and bad values', () => {
    uriError(() => parseSourceSpec('rtsp://cam/x', { fps: 5 }), /option 'fps' does not apply to rtsp/);
    uriError(() => parseSourceSpec('testsrc://?colour=red'), /unknown URI parameter 'colour'/);
    uriError(() => parseSourceSpec('testsrc://?pattern=plaid'), /unknown test pattern 'plaid'/);
    uriError(() => parseSourceSpec('testsrc://?fps=0'), /fps must be a number in \(0, 1000\]/);
    uriError(() => parseSourceSpec('testsrc://?width=abc'), /width must be a number/);
    uriError(() => parseSourceSpec('testsrc://?width=12.5'), /width must be an integer/);
    uriError(() => parseSourceSpec('file:///a.mp4?loop=maybe'), /loop must be true or false/);
    uriError(() => parseSourceSpec('v4l2:///dev/video0?width=640'), /width and height must be given together/);
    uriError(
      () => parseSourceSpec('v4l2:///dev/video0?format=yuyv;rm'),
      /format must be 'mjpeg' or a GStreamer raw format/,
    );
    uriError(
      () => parseSourceSpec('rtsp://cam/x', { transport: 'quic' as never }),
      /transport must be tcp, udp or auto/,
    );
    uriError(() => parseSourceSpec('file:///a/b*/c.jpg'), /only use \* in the file name/);
  });

  it('needs a known container to pin the Jetson decoder of a file', () => {
    uriError(
      () => parseSourceSpec('file:///v/clip.bin', { platform: 'jetson', codec: 'h264' }),
      /cannot pick a demuxer/,
    );
    const ok = kindOf(parseSourceSpec('file:///v/clip.mkv', { platform: 'jetson', codec: 'h265' }), 'file');
    assert.equal(ok.container, 'matroska');
  });

  it('redacts only the password part of URIs', () => {
    assert.equal(redactUrl('rtsp://user:pw@h/x'), 'rtsp://user:***@h/x');
    assert.equal(redactUrl('rtsp://h:554/x'), 'rtsp://h:554/x');
  });
});
