import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { modelSignaturePayload, signingKeyId } from '@edgefleet/proto';
import { errorCode, suiteApi, testApi } from './api-test-kit.js';
import { corruptModel, detectorWithoutClassNames, notADetector, tinyDetector } from './model-files.js';
import { sharedPath } from '@edgefleet/service-kit/testing';

/**
 * Model upload, validation, signing and reads over the REST API (fastify inject, real registry services on
 * PGlite, real ONNX Runtime validation). One API for the whole file.
 */

interface ModelBody {
  serial: number;
  name: string;
  version: string;
  sha256: string;
  sizeBytes: number;
  signature: string;
  keyId: string;
  classNames: string[];
  inputWidth: number;
  inputHeight: number;
  adapter: string;
  parentSerial: number | null;
  createdBy: string;
}

describe('models over REST', () => {
  const suite = suiteApi();

  const upload = (bytes: Uint8Array, query: string, token?: string | null, contentType = 'application/octet-stream') =>
    suite.api.call(
      {
        method: 'POST',
        url: `/api/v1/models?${query}`,
        headers: { 'content-type': contentType },
        payload: Buffer.from(bytes),
      },
      token,
    );

  test('a valid detector upload answers 201 with the next serial, and its signature verifies with the served public key', async () => {
    const bytes = tinyDetector();
    const res = await upload(bytes, 'name=tiny&version=1');
    assert.equal(res.statusCode, 201, res.body);
    const model = res.json() as ModelBody;
    assert.equal(model.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(model.sizeBytes, bytes.length);
    assert.deepEqual(
      [model.adapter, model.inputWidth, model.inputHeight, model.classNames],
      ['yolov8', 64, 64, ['person', 'car']],
    );
    assert.equal(model.createdBy, 'token:test-admin');

    const key = (await suite.api.call({ method: 'GET', url: '/api/v1/signing-key' }, suite.api.viewerToken)).json() as {
      keyId: string;
      publicKey: string;
      publicKeyPem: string;
      algorithm: string;
    };
    assert.equal(key.algorithm, 'ed25519');
    const raw = Buffer.from(key.publicKey, 'base64');
    assert.equal(raw.length, 32);
    assert.equal(key.keyId, signingKeyId(raw));
    assert.equal(model.keyId, key.keyId);
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
    const signed = {
      sha256: model.sha256,
      sizeBytes: model.sizeBytes,
      modelId: model.name,
      version: model.version,
      serial: model.serial,
    };
    const signature = Buffer.from(model.signature, 'base64');
    assert.equal(signature.length, 64);
    assert.equal(verify(null, modelSignaturePayload(signed), publicKey, signature), true);
    assert.equal(verify(null, modelSignaturePayload(signed), createPublicKey(key.publicKeyPem), signature), true);
    // The signature binds the serial: the same bytes with another serial do not verify.
    assert.equal(
      verify(null, modelSignaturePayload({ ...signed, serial: model.serial + 1 }), publicKey, signature),
      false,
    );

    const next = (await upload(tinyDetector(), `name=tiny&version=2&parent=${model.serial}`)).json() as ModelBody;
    assert.ok(next.serial > model.serial);
    assert.equal(next.parentSerial, model.serial);

    const audit = (
      await suite.api.call({ method: 'GET', url: `/api/v1/audit?target=model:${model.serial}` })
    ).json() as {
      entries: { action: string; actor: string; details: { sha256: string } }[];
    };
    assert.deepEqual(
      audit.entries.map((e) => [e.action, e.actor, e.details.sha256]),
      [['model.upload', 'token:test-admin', model.sha256]],
    );
  });

  test('the real pretrained models register with their adapter, input size and the 80 COCO classes', async () => {
    const v8 = await upload(readFileSync(sharedPath('models', 'yolov8n_int8.onnx')), 'name=yolov8n&version=int8');
    assert.equal(v8.statusCode, 201, v8.body);
    const m = v8.json() as ModelBody;
    assert.deepEqual(
      [m.adapter, m.inputWidth, m.inputHeight, m.classNames.length, m.classNames[0]],
      ['yolov8', 640, 640, 80, 'person'],
    );
    assert.equal(m.sha256, '8c6f0ca55e9b86c15fd6788a9edb78da087881df55cb225a64842284b84e250c');
    // YOLOX exports carry no metadata; an 80-class YOLOX model is COCO-80 by convention.
    const yx = await upload(readFileSync(sharedPath('models', 'yolox_nano.onnx')), 'name=yolox-nano&version=1');
    assert.equal(yx.statusCode, 201, yx.body);
    const y = yx.json() as ModelBody;
    assert.deepEqual(
      [y.adapter, y.inputWidth, y.inputHeight, y.classNames.length, y.classNames[16]],
      ['yolox', 416, 416, 80, 'dog'],
    );
  });

  test('refused uploads get a 4xx with a stable code, and leave nothing in the registry or the artifact store', async () => {
    const before = (await suite.api.call({ method: 'GET', url: '/api/v1/models?limit=1000' })).json() as {
      models: unknown[];
    };
    const cases: [string, Uint8Array, string, number, string][] = [
      ['corrupt', corruptModel(), 'name=bad&version=corrupt', 422, 'CP_ERR_MODEL_CORRUPT'],
      ['not a detector', notADetector(), 'name=bad&version=identity', 422, 'CP_ERR_MODEL_NOT_DETECTOR'],
      ['no class names', detectorWithoutClassNames(), 'name=bad&version=nonames', 422, 'CP_ERR_MODEL_NO_CLASS_NAMES'],
      ['empty', new Uint8Array(0), 'name=bad&version=empty', 400, 'CP_ERR_MODEL_EMPTY'],
      ['unknown parent', tinyDetector(), 'name=bad&version=orphan&parent=999999', 422, 'CP_ERR_PARENT_NOT_FOUND'],
    ];
    for (const [what, bytes, query, status, code] of cases) {
      const res = await upload(bytes, query);
      assert.equal(res.statusCode, status, `${what}: ${res.body}`);
      assert.equal(errorCode(res), code, what);
      assert.ok((res.json() as { error: { message: string } }).error.message.length > 10, what);
    }
    const corrupt = await upload(corruptModel(), 'name=bad&version=corrupt');
    assert.doesNotMatch(corrupt.body, /uploads\//, 'the spool path is not shown to the uploader');
    const after = (await suite.api.call({ method: 'GET', url: '/api/v1/models?limit=1000' })).json() as {
      models: unknown[];
    };
    assert.equal(after.models.length, before.models.length);
    for (const [, bytes] of cases)
      assert.equal(await suite.api.services.artifacts.has(createHash('sha256').update(bytes).digest('hex')), false);
  });

  test('a name and version are registered once: 409 CP_ERR_MODEL_EXISTS', async () => {
    assert.equal((await upload(tinyDetector(), 'name=dup&version=1')).statusCode, 201);
    const again = await upload(tinyDetector(), 'name=dup&version=1');
    assert.equal(again.statusCode, 409);
    assert.equal(errorCode(again), 'CP_ERR_MODEL_EXISTS');
  });

  test('uploads need application/octet-stream, a valid name and version, and fit the size limit', async () => {
    const json = await upload(Buffer.from('{}'), 'name=x&version=1', undefined, 'application/json');
    assert.equal(json.statusCode, 415);
    assert.equal(errorCode(json), 'CP_ERR_MEDIA_TYPE');
    const bad = await upload(tinyDetector(), 'name=has%0Abreak&version=a:b');
    assert.equal(bad.statusCode, 400);
    const fields = (bad.json() as { error: { fields: { field: string }[] } }).error.fields.map((f) => f.field).sort();
    assert.deepEqual(fields, ['querystring.name', 'querystring.version']);
    const missing = await upload(tinyDetector(), '');
    assert.deepEqual(
      (missing.json() as { error: { fields: { field: string }[] } }).error.fields.map((f) => f.field).sort(),
      ['querystring.name', 'querystring.version'],
    );

    const small = await testApi(suite.t, suite.store, {}, { maxUploadBytes: 100 });
    const big = await small.call({
      method: 'POST',
      url: '/api/v1/models?name=big&version=1',
      headers: { 'content-type': 'application/octet-stream' },
      payload: tinyDetector(),
    });
    assert.equal(big.statusCode, 413);
    assert.equal(errorCode(big), 'CP_ERR_MODEL_TOO_LARGE');
  });

  test('models are listed newest first with paging; one model by serial; 404 for an unknown one', async () => {
    for (const v of ['1', '2', '3'])
      assert.equal((await upload(tinyDetector(), `name=paged&version=${v}`)).statusCode, 201);
    const page = (
      await suite.api.call({ method: 'GET', url: '/api/v1/models?name=paged&limit=2' }, suite.api.viewerToken)
    ).json() as { models: ModelBody[]; nextBefore: number };
    assert.deepEqual(
      page.models.map((m) => m.version),
      ['3', '2'],
    );
    const rest = (
      await suite.api.call(
        { method: 'GET', url: `/api/v1/models?name=paged&limit=2&before=${page.nextBefore}` },
        suite.api.viewerToken,
      )
    ).json() as { models: ModelBody[]; nextBefore: number | null };
    assert.deepEqual(
      rest.models.map((m) => m.version),
      ['1'],
    );
    assert.equal(rest.nextBefore, null);
    const one = await suite.api.call(
      { method: 'GET', url: `/api/v1/models/${page.models[0]!.serial}` },
      suite.api.viewerToken,
    );
    assert.equal((one.json() as ModelBody).version, '3');
    const none = await suite.api.call({ method: 'GET', url: '/api/v1/models/999999' }, suite.api.viewerToken);
    assert.equal(none.statusCode, 404);
    assert.equal(errorCode(none), 'CP_ERR_MODEL_NOT_FOUND');
  });

  test('admins download the artifact bytes; viewers may not', async () => {
    const bytes = tinyDetector();
    const model = (await upload(bytes, 'name=dl&version=1')).json() as ModelBody;
    const res = await suite.api.call({ method: 'GET', url: `/api/v1/models/${model.serial}/artifact` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['x-model-sha256'], model.sha256);
    assert.ok(res.rawPayload.equals(bytes));
    const viewer = await suite.api.call(
      { method: 'GET', url: `/api/v1/models/${model.serial}/artifact` },
      suite.api.viewerToken,
    );
    assert.equal(viewer.statusCode, 403);
    assert.equal(errorCode(viewer), 'CP_ERR_FORBIDDEN');
  });

  test('a viewer cannot upload (403) and nobody without a token can (401)', async () => {
    const viewer = await upload(tinyDetector(), 'name=nope&version=1', suite.api.viewerToken);
    assert.equal(viewer.statusCode, 403);
    const anonymous = await upload(tinyDetector(), 'name=nope&version=1', null);
    assert.equal(anonymous.statusCode, 401);
    assert.equal(errorCode(anonymous), 'CP_ERR_UNAUTHENTICATED');
  });

  test('the upload spool is empty after uploads, accepted or refused', async () => {
    assert.deepEqual(readdirSync(join(suite.api.dataDir, 'uploads')), []);
    assert.deepEqual(readdirSync(join(suite.api.dataDir, 'artifacts', 'tmp')), []);
  });
});
