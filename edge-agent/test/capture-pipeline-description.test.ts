import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gst } from '../src/capture/gst-binding.js';
import {
  appsinkProperties,
  buildPipelineDescription,
  escapePrintf,
  fitCaps,
  fpsFraction,
  gstQuote,
  knownSourceSize,
  type PipelineSource,
} from '../src/capture/pipeline-description.js';
import { parseSourceSpec, type SourceOptions } from '../src/capture/source-spec.js';

const TAIL_RGB =
  'videoscale add-borders=false ! videoconvert ! capsfilter name=fit caps="video/x-raw,format=RGB,pixel-aspect-ratio=1/1" ! appsink name=sink';
const LIVE_SINK = 'max-buffers=1 drop=true sync=false enable-last-sample=false';
const PULL_SINK = 'max-buffers=1 drop=false sync=false enable-last-sample=false';
const CLOCK_SINK = 'max-buffers=1 drop=false sync=true enable-last-sample=false';
const NV = 'nvvidconv ! video/x-raw,format=BGRx';

function describeUri(uri: string, options: SourceOptions = {}): string {
  return buildPipelineDescription(parseSourceSpec(uri, options) as PipelineSource, { format: 'RGB', size: null });
}

const sequence: PipelineSource = {
  ...(parseSourceSpec('dir:///frames', { fps: 5, loop: true }) as Extract<PipelineSource, { kind: 'image-sequence' }>),
  resolved: {
    location: '/tmp/edgefleet-seq-1/frame-%06d.jpg',
    codec: 'jpeg',
    count: 12,
    size: { width: 1280, height: 720 },
  },
};

/** Generic descriptions of every kind: these must parse with this machine's GStreamer. */
const GENERIC: Record<string, string> = {
  'video file': describeUri('file:///v/gate cam.mp4'),
  'realtime video file': describeUri('file:///v/a.avi', { realtime: true }),
  'still image': describeUri('file:///i/dog.jpg', { loop: true, fps: 5 }),
  'png image': describeUri('file:///i/a.png'),
  'image sequence': buildPipelineDescription(sequence, { format: 'BGR', size: { width: 640, height: 360 } }),
  rtsp: describeUri('rtsp://user:pw@cam.local:8554/live?ch=1'),
  'rtsp auto transport': describeUri('rtsp://cam/s', { transport: 'auto', latencyMs: 0 }),
  'v4l2 default': describeUri('v4l2:///dev/video0'),
  'v4l2 mjpeg': describeUri('v4l2:///dev/video0?width=1280&height=720&fps=30&format=mjpeg'),
  'v4l2 raw': describeUri('v4l2:///dev/video1?width=640&height=480&format=YUY2'),
  testsrc: describeUri('testsrc://?pattern=ball&fps=7.5&width=320&height=240'),
};

describe('pipeline descriptions (generic)', () => {
  it('decodes video files with decodebin and pulls them on demand', () => {
    assert.equal(
      GENERIC['video file'],
      `filesrc name=src location="/v/gate cam.mp4" ! decodebin ! ${TAIL_RGB} ${PULL_SINK}`,
    );
    assert.equal(
      GENERIC['realtime video file'],
      `filesrc name=src location="/v/a.avi" ! decodebin ! ${TAIL_RGB} ${CLOCK_SINK}`,
    );
  });

  it('reads a still image as a one-file multifilesrc with framerate caps', () => {
    assert.equal(
      GENERIC['still image'],
      `multifilesrc name=src location="/i/dog.jpg" index=0 start-index=0 stop-index=0 loop=true caps="image/jpeg,framerate=5/1" ! jpegdec ! ${TAIL_RGB} ${PULL_SINK}`,
    );
    assert.match(GENERIC['png image']!, /caps="image\/png,framerate=10\/1" ! pngdec !/);
  });

  it('reads an image sequence through its links with the fit size known up front', () => {
    assert.equal(
      GENERIC['image sequence'],
      'multifilesrc name=src location="/tmp/edgefleet-seq-1/frame-%06d.jpg" index=0 start-index=0 stop-index=11 loop=true ' +
        'caps="image/jpeg,framerate=5/1" ! jpegdec ! videoscale add-borders=false ! videoconvert ! ' +
        `capsfilter name=fit caps="video/x-raw,format=BGR,pixel-aspect-ratio=1/1,width=640,height=360" ! appsink name=sink ${PULL_SINK}`,
    );
  });

  it('links only the video stream of an RTSP camera and drops in the sink', () => {
    assert.equal(
      GENERIC.rtsp,
      'rtspsrc name=src location="rtsp://user:pw@cam.local:8554/live?ch=1" latency=200 protocols=tcp drop-on-latency=true ' +
        `! application/x-rtp,media=video ! decodebin ! ${TAIL_RGB} ${LIVE_SINK}`,
    );
    assert.match(GENERIC['rtsp auto transport']!, /latency=0 drop-on-latency=true/);
    assert.doesNotMatch(GENERIC['rtsp auto transport']!, /protocols=/);
  });

  it('asks V4L2 devices for the configured caps', () => {
    assert.equal(GENERIC['v4l2 default'], `v4l2src name=src device="/dev/video0" ! ${TAIL_RGB} ${LIVE_SINK}`);
    assert.match(
      GENERIC['v4l2 mjpeg']!,
      /^v4l2src name=src device="\/dev\/video0" ! image\/jpeg,width=1280,height=720,framerate=30\/1 ! jpegdec ! videoscale/,
    );
    assert.match(GENERIC['v4l2 raw']!, /! video\/x-raw,format=YUY2,width=640,height=480 ! videoscale/);
  });

  it('makes the test pattern live at a fractional rate', () => {
    assert.match(
      GENERIC.testsrc!,
      /^videotestsrc name=src is-live=true pattern=ball ! video\/x-raw,width=320,height=240,framerate=15\/2 ! videoscale/,
    );
    assert.ok(GENERIC.testsrc!.endsWith(LIVE_SINK));
  });

  for (const [name, description] of Object.entries(GENERIC)) {
    it(`parses with GStreamer: ${name}`, () => {
      // Construction parses and links without changing state (no file, device or network is touched).
      const pipeline = new (gst().Pipeline)(description);
      assert.ok(pipeline.findChild('src'), 'source element named src');
      assert.ok(pipeline.findChild('fit'), 'capsfilter named fit');
      assert.equal(typeof pipeline.findChild('sink')?.pull, 'function', 'appsink named sink');
    });
  }

  it('escapes quotes, backslashes and spaces so GStreamer reads the path back unchanged', () => {
    for (const path of [
      '/tmp/a b/c.avi',
      '/tmp/we"ird/x\\y.avi',
      "/tmp/it's/!x.avi",
      '/tmp/50%/é ü.avi',
      '/tmp/a ! b/x',
    ]) {
      const pipeline = new (gst().Pipeline)(`filesrc name=src location=${gstQuote(path)} ! fakesink`);
      assert.equal(pipeline.findChild('src')?.location, path);
    }
    assert.throws(() => gstQuote('a\0b'), /NUL/);
  });

  it('doubles % for multifilesrc, whose location is a printf pattern', () => {
    assert.equal(escapePrintf('/data/100%/img.jpg'), '/data/100%%/img.jpg');
    assert.match(describeUri('file:///data/100%25/img.jpg'), /location="\/data\/100%%\/img.jpg"/);
  });

  it('fails to build a description GStreamer cannot parse (missing element) with its message', () => {
    assert.throws(
      () => new (gst().Pipeline)(describeUri('csi://0', { platform: 'jetson' })),
      /no element "nvarguscamerasrc"/,
    );
  });
});

describe('pipeline descriptions (Jetson)', () => {
  it('decodes files with decodebin then nvvidconv into system memory by default', () => {
    assert.equal(
      describeUri('file:///v/a.mp4', { platform: 'jetson' }),
      `filesrc name=src location="/v/a.mp4" ! decodebin ! ${NV} ! ${TAIL_RGB} ${PULL_SINK}`,
    );
  });

  it('pins demuxer, parser and nvv4l2decoder when the codec is given', () => {
    assert.equal(
      describeUri('file:///v/a.mp4', { platform: 'jetson', codec: 'h264' }),
      `filesrc name=src location="/v/a.mp4" ! qtdemux ! h264parse ! nvv4l2decoder ! ${NV} ! ${TAIL_RGB} ${PULL_SINK}`,
    );
    assert.match(
      describeUri('file:///v/a.mkv', { platform: 'jetson', codec: 'h265' }),
      /! matroskademux ! h265parse ! nvv4l2decoder !/,
    );
    assert.match(
      describeUri('file:///v/a.h265', { platform: 'jetson', codec: 'h265' }),
      /location="\/v\/a.h265" ! h265parse ! nvv4l2decoder !/,
    );
  });

  it('depayloads RTSP H.264/H.265 into nvv4l2decoder', () => {
    assert.equal(
      describeUri('rtsp://cam/s', { platform: 'jetson', codec: 'h264' }),
      'rtspsrc name=src location="rtsp://cam/s" latency=200 protocols=tcp drop-on-latency=true ! application/x-rtp,media=video ' +
        `! rtph264depay ! h264parse ! nvv4l2decoder ! ${NV} ! ${TAIL_RGB} ${LIVE_SINK}`,
    );
    assert.match(
      describeUri('rtsp://cam/s', { platform: 'jetson', codec: 'h265' }),
      /! rtph265depay ! h265parse ! nvv4l2decoder !/,
    );
    assert.match(
      describeUri('rtsp://cam/s', { platform: 'jetson' }),
      /media=video ! decodebin ! nvvidconv ! video\/x-raw,format=BGRx !/,
    );
  });

  it('captures CSI sensors with nvarguscamerasrc in NVMM memory', () => {
    assert.equal(
      describeUri('csi://0?width=1280&height=720&fps=60', { platform: 'jetson' }),
      'nvarguscamerasrc name=src sensor-id=0 ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=60/1,format=NV12 ' +
        `! ${NV} ! ${TAIL_RGB} ${LIVE_SINK}`,
    );
  });

  it('decodes MJPEG webcams with nvv4l2decoder mjpeg=1 and converts raw ones with nvvidconv', () => {
    assert.match(
      describeUri('v4l2:///dev/video0?format=mjpeg', { platform: 'jetson' }),
      /! image\/jpeg ! nvv4l2decoder mjpeg=1 ! nvvidconv ! video\/x-raw,format=BGRx !/,
    );
    assert.match(
      describeUri('v4l2:///dev/video0?width=640&height=480&format=YUY2', { platform: 'jetson' }),
      /YUY2,width=640,height=480 ! nvvidconv ! video\/x-raw,format=BGRx !/,
    );
  });

  it('always ends in the same fit capsfilter and appsink', () => {
    for (const uri of ['file:///v/a.mp4', 'rtsp://cam/s', 'csi://0', 'v4l2:///dev/video0', 'testsrc://']) {
      assert.match(
        describeUri(uri, { platform: 'jetson' }),
        /! videoscale add-borders=false ! videoconvert ! capsfilter name=fit caps="[^"]+" ! appsink name=sink /,
      );
    }
  });
});

describe('pipeline description helpers', () => {
  it('writes frame rates as GStreamer fractions', () => {
    assert.equal(fpsFraction(10), '10/1');
    assert.equal(fpsFraction(7.5), '15/2');
    assert.equal(fpsFraction(29.97), '2997/100');
  });

  it('builds fit caps with and without a size and rejects bad sizes', () => {
    assert.equal(fitCaps('BGR', null), 'video/x-raw,format=BGR,pixel-aspect-ratio=1/1');
    assert.equal(
      fitCaps('RGB', { width: 640, height: 360 }),
      'video/x-raw,format=RGB,pixel-aspect-ratio=1/1,width=640,height=360',
    );
    assert.throws(() => fitCaps('RGB', { width: 0, height: 10 }), /positive integers/);
    assert.throws(() => fitCaps('RGB', { width: 10.5, height: 10 }), /positive integers/);
  });

  it('knows the native size only where configuration or headers give it', () => {
    assert.deepEqual(knownSourceSize(parseSourceSpec('testsrc://?width=320&height=200') as PipelineSource), {
      width: 320,
      height: 200,
    });
    assert.deepEqual(knownSourceSize(parseSourceSpec('v4l2:///dev/video0?width=320&height=200') as PipelineSource), {
      width: 320,
      height: 200,
    });
    assert.equal(knownSourceSize(parseSourceSpec('v4l2:///dev/video0') as PipelineSource), null);
    assert.equal(knownSourceSize(parseSourceSpec('rtsp://cam/x') as PipelineSource), null);
    assert.equal(knownSourceSize(parseSourceSpec('file:///a.mp4') as PipelineSource), null);
    assert.deepEqual(knownSourceSize(sequence), { width: 1280, height: 720 });
  });

  it('uses a dropping sink for live devices and a blocking one for files', () => {
    assert.equal(appsinkProperties(parseSourceSpec('rtsp://cam/x')), LIVE_SINK);
    assert.equal(appsinkProperties(parseSourceSpec('file:///a.mp4')), PULL_SINK);
    assert.equal(appsinkProperties(parseSourceSpec('file:///a.mp4', { realtime: true })), CLOCK_SINK);
  });
});
