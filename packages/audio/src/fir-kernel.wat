;; The resampler's inner loop with 128-bit SIMD: for each of `count` outputs, the dot product of `taps`
;; inputs (from `in` + index * 4) with the kernel of its phase (from `k` + phase * taps * 4). `taps` is a
;; multiple of 8: two accumulators of four lanes hide the adds' latency (four gain nothing: the loads
;; bound it). The position advances by down/up inputs per output (index + num/up); where the ratio has
;; more phases than were tabulated (`exact` 0), the nearest of `phases` is used.
;; Build: wat2wasm fir-kernel.wat -o - | base64 -w0  (the result is in fir-kernel.ts)
(module
  (import "env" "memory" (memory 1))
  (func (export "fir")
    (param $k i32) (param $taps i32) (param $in i32) (param $out i32) (param $count i32)
    (param $num i32) (param $up i32) (param $down i32) (param $phases i32) (param $exact i32)
    (local $i i32) (local $index i32) (local $phase i32) (local $kp i32) (local $ip i32) (local $end i32)
    (local $a v128) (local $b v128)
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $phase
          (if (result i32) (local.get $exact)
            (then (local.get $num))
            (else
              (i32.div_u
                (i32.add (i32.shl (i32.mul (local.get $num) (local.get $phases)) (i32.const 1)) (local.get $up))
                (i32.shl (local.get $up) (i32.const 1))))))
        (local.set $kp (i32.add (local.get $k) (i32.shl (i32.mul (local.get $phase) (local.get $taps)) (i32.const 2))))
        (local.set $ip (i32.add (local.get $in) (i32.shl (local.get $index) (i32.const 2))))
        (local.set $end (i32.add (local.get $kp) (i32.shl (local.get $taps) (i32.const 2))))
        (local.set $a (v128.const f32x4 0 0 0 0))
        (local.set $b (v128.const f32x4 0 0 0 0))
        (loop $inner
          (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $ip)) (v128.load (local.get $kp)))))
          (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $ip)) (v128.load offset=16 (local.get $kp)))))
          (local.set $ip (i32.add (local.get $ip) (i32.const 32)))
          (local.set $kp (i32.add (local.get $kp) (i32.const 32)))
          (br_if $inner (i32.lt_u (local.get $kp) (local.get $end))))
        (local.set $a (f32x4.add (local.get $a) (local.get $b)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
            (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
        (local.set $num (i32.add (local.get $num) (local.get $down)))
        (if (i32.ge_u (local.get $num) (local.get $up))
          (then
            (local.set $index (i32.add (local.get $index) (i32.div_u (local.get $num) (local.get $up))))
            (local.set $num (i32.rem_u (local.get $num) (local.get $up)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))))
