;; Loss Lens's SIMD kernels for float32 inputs (WebAssembly SIMD, f32x4), used by the host kernel's fast paths.
;; exp is Cephes' expf (degree-6 polynomial after Cody-Waite reduction, ~1 ulp); sums accumulate in f64x2.
;; Build: node server/src/losses/simd/build.mjs (needs wat2wasm from wabt); the bytes are committed in kernel-bytes.ts.
(module
  (memory (export "memory") 1)

  ;; exp(d) for d in [-87.3, 0] (callers clamp), NaN in -> NaN out.
  (func $exp4 (param $d v128) (result v128)
    (local $t v128) (local $k v128) (local $r v128) (local $p v128)
    ;; Round to nearest by adding 1.5 * 2^23: the sum's low mantissa bits then hold k as an integer.
    (local.set $t (f32x4.add (f32x4.mul (local.get $d) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $k (f32x4.sub (local.get $t) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $r (f32x4.sub (local.get $d) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    ;; 2^k built in the exponent field.
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.sub (local.get $t) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; Adds the four f32 lanes of $v, as f64, to the two f64 lanes of $acc.
  (func $accumulate (param $acc v128) (param $v v128) (result v128)
    (f64x2.add
      (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (local.get $v)))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))

  ;; For each of $rows rows of $stride floats at $x (padded with -inf to a multiple of 8), writes the row's max
  ;; and sum(exp(x - max)) as two f64 at $out + 16 * row.
  (func (export "rowMaxSumExp") (param $x i32) (param $rows i32) (param $stride i32) (param $out i32)
    (local $row i32) (local $at i32) (local $end i32) (local $vmax v128) (local $m f32) (local $vm v128) (local $acc v128) (local $acc2 v128)
    (local $d v128) (local $t v128) (local $k v128) (local $r v128) (local $p v128) (local $e v128)
    (local $d_b v128) (local $t_b v128) (local $k_b v128) (local $r_b v128) (local $p_b v128) (local $e_b v128) (local $acc_b v128) (local $acc2_b v128)
    (block $rows_done
      (loop $row_loop
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $at (i32.add (local.get $x) (i32.mul (i32.mul (local.get $row) (local.get $stride)) (i32.const 4))))
        (local.set $end (i32.add (local.get $at) (i32.mul (local.get $stride) (i32.const 4))))
        ;; max, NaN-propagating
        (local.set $vmax (v128.const f32x4 -inf -inf -inf -inf))
        (block $max_done
          (loop $max_loop
            (br_if $max_done (i32.ge_u (local.get $at) (local.get $end)))
            (local.set $vmax (f32x4.max (local.get $vmax) (v128.load (local.get $at))))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $max_loop)))
        (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
                               (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
        (local.set $vm (f32x4.splat (local.get $m)))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $acc2 (v128.const f64x2 0 0))
        (local.set $acc_b (v128.const f64x2 0 0))
        (local.set $acc2_b (v128.const f64x2 0 0))
        (local.set $at (i32.sub (local.get $end) (i32.mul (local.get $stride) (i32.const 4))))
        (block $sum_done
          (loop $sum_loop
            (br_if $sum_done (i32.ge_u (local.get $at) (local.get $end)))
            ;; $exp4 and $accumulate, inlined and unrolled twice (two independent chains): this loop is where
            ;; cross_entropy spends its time. Rows are padded to a multiple of 8 floats.
            (local.set $d (f32x4.max (f32x4.sub (v128.load (local.get $at)) (local.get $vm)) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)))
            ;; Round to nearest by adding 1.5 * 2^23: the sum's low mantissa bits then hold k as an integer.
            (local.set $t (f32x4.add (f32x4.mul (local.get $d) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
            (local.set $k (f32x4.sub (local.get $t) (v128.const f32x4 12582912 12582912 12582912 12582912)))
            (local.set $r (f32x4.sub (local.get $d) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
            (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
            (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
            (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
            (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
          ;; 2^k built in the exponent field.
            (local.set $e (f32x4.mul (local.get $p)
            (i32x4.shl (i32x4.add (i32x4.sub (local.get $t) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
            (local.set $acc (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (local.get $e))))
            (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
            (local.set $d_b (f32x4.max (f32x4.sub (v128.load offset=16 (local.get $at)) (local.get $vm)) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)))
            ;; Round to nearest by adding 1.5 * 2^23: the sum's low mantissa bits then hold k as an integer.
            (local.set $t_b (f32x4.add (f32x4.mul (local.get $d_b) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
            (local.set $k_b (f32x4.sub (local.get $t_b) (v128.const f32x4 12582912 12582912 12582912 12582912)))
            (local.set $r_b (f32x4.sub (local.get $d_b) (f32x4.mul (local.get $k_b) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
            (local.set $r_b (f32x4.sub (local.get $r_b) (f32x4.mul (local.get $k_b) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
            (local.set $p_b (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
            (local.set $p_b (f32x4.add (f32x4.mul (local.get $p_b) (local.get $r_b)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
            (local.set $p_b (f32x4.add (f32x4.mul (local.get $p_b) (local.get $r_b)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
            (local.set $p_b (f32x4.add (f32x4.mul (local.get $p_b) (local.get $r_b)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
            (local.set $p_b (f32x4.add (f32x4.mul (local.get $p_b) (local.get $r_b)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
            (local.set $p_b (f32x4.add (f32x4.mul (local.get $p_b) (local.get $r_b)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
            (local.set $p_b (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p_b) (local.get $r_b)) (local.get $r_b)) (local.get $r_b)) (v128.const f32x4 1 1 1 1)))
          ;; 2^k built in the exponent field.
            (local.set $e_b (f32x4.mul (local.get $p_b)
            (i32x4.shl (i32x4.add (i32x4.sub (local.get $t_b) (v128.const i32x4 0x4B400000 0x4B400000 0x4B400000 0x4B400000)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
            (local.set $acc_b (f64x2.add (local.get $acc_b) (f64x2.promote_low_f32x4 (local.get $e_b))))
            (local.set $acc2_b (f64x2.add (local.get $acc2_b) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e_b) (local.get $e_b)))))
            (local.set $at (i32.add (local.get $at) (i32.const 32)))
            (br $sum_loop)))
        (f64.store (i32.add (local.get $out) (i32.mul (local.get $row) (i32.const 16))) (f64.promote_f32 (local.get $m)))
        (f64.store offset=8 (i32.add (local.get $out) (i32.mul (local.get $row) (i32.const 16)))
          (f64.add (f64.add (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))
                   (f64.add (f64x2.extract_lane 0 (local.get $acc2)) (f64x2.extract_lane 1 (local.get $acc2))))
          (f64.add (f64.add (f64x2.extract_lane 0 (local.get $acc_b)) (f64x2.extract_lane 1 (local.get $acc_b)))
                   (f64.add (f64x2.extract_lane 0 (local.get $acc2_b)) (f64x2.extract_lane 1 (local.get $acc2_b))))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $row_loop))))

  ;; Sum over $count elements (a multiple of 4) of (1 - y) x - logsigmoid(x), logsigmoid(x) = min(x, 0) - log1p(exp(-|x|)),
  ;; log1p(u) = 2 atanh(u / (2 + u)).
  (func (export "bceWithLogitsSum") (param $x i32) (param $y i32) (param $count i32) (result f64)
    (local $i i32) (local $v v128) (local $u v128) (local $s v128) (local $s2 v128) (local $q v128) (local $loss v128) (local $acc v128)
    (local.set $acc (v128.const f64x2 0 0))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $v (v128.load (i32.add (local.get $x) (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $u (call $exp4 (f32x4.max (f32x4.neg (f32x4.abs (local.get $v))) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))))
        (local.set $s (f32x4.div (local.get $u) (f32x4.add (local.get $u) (v128.const f32x4 2 2 2 2))))
        (local.set $s2 (f32x4.mul (local.get $s) (local.get $s)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $s2) (v128.const f32x4 0.0666666667 0.0666666667 0.0666666667 0.0666666667)) (v128.const f32x4 0.0769230769 0.0769230769 0.0769230769 0.0769230769)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $s2) (local.get $q)) (v128.const f32x4 0.0909090909 0.0909090909 0.0909090909 0.0909090909)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $s2) (local.get $q)) (v128.const f32x4 0.1111111111 0.1111111111 0.1111111111 0.1111111111)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $s2) (local.get $q)) (v128.const f32x4 0.1428571429 0.1428571429 0.1428571429 0.1428571429)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $s2) (local.get $q)) (v128.const f32x4 0.2 0.2 0.2 0.2)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $s2) (local.get $q)) (v128.const f32x4 0.3333333333 0.3333333333 0.3333333333 0.3333333333)))
        (local.set $q (f32x4.add (f32x4.mul (local.get $s2) (local.get $q)) (v128.const f32x4 1 1 1 1)))
        ;; loss = (1 - y) x - (min(x, 0) - 2 s q)
        (local.set $loss
          (f32x4.sub
            (f32x4.mul (f32x4.sub (v128.const f32x4 1 1 1 1) (v128.load (i32.add (local.get $y) (i32.mul (local.get $i) (i32.const 4))))) (local.get $v))
            (f32x4.sub (f32x4.min (local.get $v) (v128.const f32x4 0 0 0 0))
                       (f32x4.mul (f32x4.add (local.get $s) (local.get $s)) (local.get $q)))))
        (local.set $acc (call $accumulate (local.get $acc) (local.get $loss)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $each)))
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
)
