/**
 * Reads the byte-exact captures in /work/shared/freeswitch/transcripts (chunks framed as
 * `===== [ t s] DIR N bytes =====\n<N bytes>\n===== end chunk =====`). Test-only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameParser } from '../../src/esl/frame-parser.js';

export const TRANSCRIPT_DIR = '/work/shared/freeswitch/transcripts';

export interface TranscriptChunk {
  readonly direction: 'DAEMON->FS' | 'FS->DAEMON';
  readonly bytes: Buffer;
}

/** True when the capture exists on this machine (the byte-faithfulness tests skip otherwise). */
export function hasTranscript(name: string): boolean {
  return existsSync(join(TRANSCRIPT_DIR, name));
}

/** Every chunk of transcript `name`, in order. */
export function readTranscript(name: string): TranscriptChunk[] {
  const data = readFileSync(join(TRANSCRIPT_DIR, name));
  const marker = /===== \[\s*[0-9.]+s\] (DAEMON->FS|FS->DAEMON) (\d+) bytes =====\n/g;
  const text = data.toString('latin1');
  const chunks: TranscriptChunk[] = [];
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    const start = m.index + m[0].length;
    const length = Number(m[2]);
    chunks.push({ direction: m[1] as TranscriptChunk['direction'], bytes: data.subarray(start, start + length) });
    marker.lastIndex = start + length;
  }
  return chunks;
}

/** The body of every JSON event the switch sent in every transcript, with the transcript's name. */
export function transcriptJsonEvents(): Array<{ name: string; body: Buffer }> {
  const events: Array<{ name: string; body: Buffer }> = [];
  for (const name of readdirSync(TRANSCRIPT_DIR).filter((n) => n.endsWith('.txt'))) {
    const parser = new FrameParser({ maxFrameBytes: 1 << 20 });
    for (const chunk of readTranscript(name)) {
      if (chunk.direction !== 'FS->DAEMON') continue;
      for (const frame of parser.push(chunk.bytes).frames) {
        if (frame.headers.get('Content-Type') === 'text/event-json' && frame.body) events.push({ name, body: frame.body });
      }
    }
  }
  return events;
}
