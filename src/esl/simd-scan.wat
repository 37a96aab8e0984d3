;; SIMD scanners of event socket input (loaded by src/esl/simd-scan.ts). Each reads text the caller wrote at
;; memory[0, len), followed by 16 zero bytes: a zero is a control byte, which ends every scan below as a failure and
;; matches no byte a scan looks for, so no read needs a bounds check, and a 16-byte load starting at any byte of
;; the text stays inside the written memory. Each answers exactly as its JavaScript counterpart does, or declines
;; (-1) and the caller runs that counterpart; test/esl/simd-scan.test.ts holds them to it.
;;
;; jsonObject(len, out): json-event.ts's scanner. Writes four i32s per entry at `out`: key start, key end, value
;; start, value end (the end negated: the value has escapes; both -1: the value is an array of strings). Returns
;; how many it wrote, or -1 when the text is not the strict subset of JSON that scanner accepts.
;;
;; headerLines(len, out): a header block as FreeSWITCH writes it (frame-parser.ts): `Name: value` lines ended by
;; LF, then a blank line. Writes the line count times 3 at `out`, then per line its start, its first colon and its
;; end (the LF), and returns the index just past the blank line. Declines (-1) a block it does not see whole in
;; the text, and any line the parser treats otherwise or with more care: a CR, a control or non-ASCII byte, no
;; colon, an empty name, white space at the name's ends.
;;
;; Assembled into simd-scan-module.ts by `npm run assemble:wasm` (scripts/assemble-wasm.ts).
(module
  (memory (export "memory") 4)

  ;; The first index at or after $i that is not JSON whitespace.
  (func $ws (param $i i32) (result i32)
    (local $c i32)
    (loop $next
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
                  (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))
        (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next))))
    (local.get $i))

  ;; The index of the first byte at or after $i that is '"', '\' or a control byte (one always comes: the zeros).
  ;; The scan's hot loops spell this out again: a call per string cost a quarter of the scan.
  (func $special (param $i i32) (result i32)
    (local $v v128) (local $m i32)
    (loop $next
      (local.set $v (v128.load (local.get $i)))
      (local.set $m (i8x16.bitmask (v128.or (v128.or
        (i8x16.eq (local.get $v) (v128.const i8x16 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22))
        (i8x16.eq (local.get $v) (v128.const i8x16 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c)))
        (i8x16.lt_u (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))))
      (if (i32.eqz (local.get $m)) (then (local.set $i (i32.add (local.get $i) (i32.const 16))) (br $next))))
    (i32.add (local.get $i) (i32.ctz (local.get $m))))

  (func $hex (param $c i32) (result i32)
    (i32.or (i32.lt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 10))
            (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 0x20)) (i32.const 0x61)) (i32.const 6))))

  ;; The end of a string from its byte $i on (inside it, past any plain content): the index of its closing quote,
  ;; negated when an escape came before it, or 0 when it is not a valid JSON string. 0 is never a closing quote.
  (func $stringEnd (param $i i32) (result i32)
    (local $c i32) (local $e i32) (local $esc i32)
    (loop $next
      (local.set $i (call $special (local.get $i)))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 0x22))
        (then (return (select (i32.sub (i32.const 0) (local.get $i)) (local.get $i) (local.get $esc)))))
      (if (i32.lt_u (local.get $c) (i32.const 0x20)) (then (return (i32.const 0))))
      ;; A backslash: \uXXXX or one of \" \\ \/ \b \f \n \r \t.
      (local.set $esc (i32.const 1))
      (local.set $e (i32.load8_u offset=1 (local.get $i)))
      (if (i32.eq (local.get $e) (i32.const 0x75))
        (then
          (if (i32.eqz (i32.and
                (i32.and (call $hex (i32.load8_u offset=2 (local.get $i))) (call $hex (i32.load8_u offset=3 (local.get $i))))
                (i32.and (call $hex (i32.load8_u offset=4 (local.get $i))) (call $hex (i32.load8_u offset=5 (local.get $i))))))
            (then (return (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 6)))
          (br $next)))
      (if (i32.eqz (i32.or
            (i32.or (i32.or (i32.eq (local.get $e) (i32.const 0x22)) (i32.eq (local.get $e) (i32.const 0x5c)))
                    (i32.or (i32.eq (local.get $e) (i32.const 0x2f)) (i32.eq (local.get $e) (i32.const 0x62))))
            (i32.or (i32.or (i32.eq (local.get $e) (i32.const 0x66)) (i32.eq (local.get $e) (i32.const 0x6e)))
                    (i32.or (i32.eq (local.get $e) (i32.const 0x72)) (i32.eq (local.get $e) (i32.const 0x74))))))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $next))
    (i32.const 0))

  (func $abs (param $x i32) (result i32)
    (select (i32.sub (i32.const 0) (local.get $x)) (local.get $x) (i32.lt_s (local.get $x) (i32.const 0))))

  ;; The index of the ']' closing an array of strings whose first byte after '[' is at $i; -1 if it is not one.
  (func $arrayEnd (param $i i32) (result i32)
    (local $end i32)
    (local.set $i (call $ws (local.get $i)))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x5d)) (then (return (local.get $i))))
    (loop $next
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const -1))))
      (local.set $end (call $stringEnd (i32.add (local.get $i) (i32.const 1))))
      (if (i32.eqz (local.get $end)) (then (return (i32.const -1))))
      (local.set $i (call $ws (i32.add (call $abs (local.get $end)) (i32.const 1))))
      (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x5d)) (then (return (local.get $i))))
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x2c)) (then (return (i32.const -1))))
      (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
      (br $next))
    (i32.const -1))

  ;; Whitespace is looked for only where the expected byte is not there: FreeSWITCH writes none.
  (func (export "jsonObject") (param $len i32) (param $out i32) (result i32)
    (local $i i32) (local $n i32) (local $ks i32) (local $ke i32) (local $vs i32) (local $ve i32) (local $c i32)
    (local $v v128) (local $m i32)
    (local.set $i (call $ws (i32.const 0)))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x7b)) (then (return (i32.const -1))))
    (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x7d))
      (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
      (else
        (loop $entry
          (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const -1))))
          ;; The key: plain content up to its closing quote (an escape or a control byte: not accepted).
          (local.set $ks (i32.add (local.get $i) (i32.const 1)))
          (local.set $ke (local.get $ks))
          (loop $key
            (local.set $v (v128.load (local.get $ke)))
            (local.set $m (i8x16.bitmask (v128.or (v128.or
              (i8x16.eq (local.get $v) (v128.const i8x16 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22))
              (i8x16.eq (local.get $v) (v128.const i8x16 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c)))
              (i8x16.lt_u (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))))
            (if (i32.eqz (local.get $m)) (then (local.set $ke (i32.add (local.get $ke) (i32.const 16))) (br $key))))
          (local.set $ke (i32.add (local.get $ke) (i32.ctz (local.get $m))))
          (if (i32.ne (i32.load8_u (local.get $ke)) (i32.const 0x22)) (then (return (i32.const -1))))
          (local.set $i (i32.add (local.get $ke) (i32.const 1)))
          (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x3a))
            (then
              (local.set $i (call $ws (local.get $i)))
              (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x3a)) (then (return (i32.const -1))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $c (i32.load8_u (local.get $i)))
          (if (i32.and (i32.ne (local.get $c) (i32.const 0x22)) (i32.ne (local.get $c) (i32.const 0x5b)))
            (then (local.set $i (call $ws (local.get $i))) (local.set $c (i32.load8_u (local.get $i)))))
          (if (i32.eq (local.get $c) (i32.const 0x22))
            (then
              ;; A string: plain content up to the first special byte; from an escape on, $stringEnd reads it.
              (local.set $vs (i32.add (local.get $i) (i32.const 1)))
              (local.set $ve (local.get $vs))
              (loop $value
                (local.set $v (v128.load (local.get $ve)))
                (local.set $m (i8x16.bitmask (v128.or (v128.or
                  (i8x16.eq (local.get $v) (v128.const i8x16 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22 0x22))
                  (i8x16.eq (local.get $v) (v128.const i8x16 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c 0x5c)))
                  (i8x16.lt_u (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))))
                (if (i32.eqz (local.get $m)) (then (local.set $ve (i32.add (local.get $ve) (i32.const 16))) (br $value))))
              (local.set $ve (i32.add (local.get $ve) (i32.ctz (local.get $m))))
              (if (i32.ne (i32.load8_u (local.get $ve)) (i32.const 0x22))
                (then
                  (local.set $ve (call $stringEnd (local.get $ve)))
                  (if (i32.eqz (local.get $ve)) (then (return (i32.const -1))))))
              (local.set $i (i32.add (call $abs (local.get $ve)) (i32.const 1))))
            (else
              ;; An array of strings (a multi-valued channel variable): read as absent.
              (if (i32.ne (local.get $c) (i32.const 0x5b)) (then (return (i32.const -1))))
              (local.set $i (call $arrayEnd (i32.add (local.get $i) (i32.const 1))))
              (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $vs (i32.const -1))
              (local.set $ve (i32.const -1))))
          (i32.store (local.get $out) (local.get $ks))
          (i32.store offset=4 (local.get $out) (local.get $ke))
          (i32.store offset=8 (local.get $out) (local.get $vs))
          (i32.store offset=12 (local.get $out) (local.get $ve))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (local.set $n (i32.add (local.get $n) (i32.const 4)))
          (local.set $c (i32.load8_u (local.get $i)))
          (if (i32.and (i32.ne (local.get $c) (i32.const 0x2c)) (i32.ne (local.get $c) (i32.const 0x7d)))
            (then (local.set $i (call $ws (local.get $i))) (local.set $c (i32.load8_u (local.get $i)))))
          (if (i32.eq (local.get $c) (i32.const 0x2c))
            (then
              (local.set $i (call $ws (i32.add (local.get $i) (i32.const 1))))
              (br $entry)))
          (if (i32.ne (local.get $c) (i32.const 0x7d)) (then (return (i32.const -1))))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))))
    ;; Nothing but whitespace after the object.
    (if (i32.ne (call $ws (local.get $i)) (local.get $len)) (then (return (i32.const -1))))
    (local.get $n))

  ;; A byte that may start or end a header name with white space around it (String.prototype.trim's ASCII set).
  (func $asciiSpace (param $c i32) (result i32)
    (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.lt_u (i32.sub (local.get $c) (i32.const 0x09)) (i32.const 5))))

  (func (export "headerLines") (param $len i32) (param $out i32) (result i32)
    (local $i i32) (local $n i32) (local $colon i32) (local $c i32) (local $v v128) (local $m i32) (local $at i32)
    (local.set $at (i32.add (local.get $out) (i32.const 4)))
    (loop $line
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 0x0a))
        (then
          ;; The blank line. (The caller never starts a block with one: a stray blank line is its own case.)
          (i32.store (local.get $out) (local.get $n))
          (return (i32.add (local.get $i) (i32.const 1)))))
      (if (call $asciiSpace (local.get $c)) (then (return (i32.const -1))))
      (local.set $colon (i32.const -1))
      (local.set $m (local.get $i))
      ;; The line's bytes up to its LF, 16 at a time: stop at ':', a control byte (LF, CR, the zeros) or a byte
      ;; over 0x7f.
      (block $eol
        (loop $scan
          (local.set $v (v128.load (local.get $m)))
          (local.set $c (i8x16.bitmask (v128.or (v128.or
            (i8x16.eq (local.get $v) (v128.const i8x16 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a 0x3a))
            (i8x16.lt_u (local.get $v) (v128.const i8x16 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20 0x20)))
            (i8x16.lt_s (local.get $v) (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)))))
          (if (i32.eqz (local.get $c)) (then (local.set $m (i32.add (local.get $m) (i32.const 16))) (br $scan)))
          (local.set $m (i32.add (local.get $m) (i32.ctz (local.get $c))))
          (local.set $c (i32.load8_u (local.get $m)))
          (br_if $eol (i32.eq (local.get $c) (i32.const 0x0a)))
          (if (i32.ne (local.get $c) (i32.const 0x3a)) (then (return (i32.const -1))))
          (if (i32.lt_s (local.get $colon) (i32.const 0)) (then (local.set $colon (local.get $m))))
          (local.set $m (i32.add (local.get $m) (i32.const 1)))
          (br $scan)))
      ;; $m: the LF. A name of one byte at least, no white space before its colon.
      (if (i32.le_s (local.get $colon) (local.get $i)) (then (return (i32.const -1))))
      (if (call $asciiSpace (i32.load8_u (i32.sub (local.get $colon) (i32.const 1)))) (then (return (i32.const -1))))
      (i32.store (local.get $at) (local.get $i))
      (i32.store offset=4 (local.get $at) (local.get $colon))
      (i32.store offset=8 (local.get $at) (local.get $m))
      (local.set $at (i32.add (local.get $at) (i32.const 12)))
      (local.set $n (i32.add (local.get $n) (i32.const 3)))
      (local.set $i (i32.add (local.get $m) (i32.const 1)))
      (br $line))
    (i32.const -1))
)
