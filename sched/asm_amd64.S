/* Context switch for x86_64 (System V).  Go: runtime/asm_amd64.s mcall,
 * gogo.  Only callee-saved state is saved: every switch happens at a call
 * boundary, so the caller-saved registers are dead.  MXCSR and the x87
 * control word are callee-saved by the ABI too (rounding mode, masks).
 *
 * struct goro_gctx: rsp 0, rbx 8, rbp 16, r12 24, r13 32, r14 40, r15 48,
 *                   mxcsr 56, fpucw 60.
 */
	.text

/* struct m through %gs (sched/runtime.h GORO_M_*). */
#define M_GCUR	8
#define M_FS	16
#define M_FSWRITES 24
#define M_FSSYSCALLS 32

/* Write the %fs base = %rdi: for a TCB in the LDT arena (sched/fsldt.c),
 * load the selector of its slot, whose segment is based at it; else
 * wrfsbase where allowed (it leaves the selector as it is: the kernel
 * reloads both, selector first); else the arch_prctl system call (counted
 * in the M with count=1), which zeroes the selector.  Clobbers rax, rcx,
 * rdx, rsi, rdi, r11. */
.macro WRFS count=0
	mov	%rdi, %rax
	sub	goro__ldt_lo(%rip), %rax
	cmp	goro__ldt_size(%rip), %rax
	jae	1f
	movzbl	goro__ldt_shift(%rip), %ecx
	shr	%cl, %rax
	lea	7(,%rax,8), %eax	/* index << 3 | LDT | RPL 3 */
	mov	%ax, %fs
	jmp	2f
1:	cmpb	$0, goro__fsgsbase(%rip)
	je	4f
	wrfsbase %rdi
	jmp	2f
4:
	.if \count
	incq	%gs:M_FSSYSCALLS
	.endif
	mov	%rdi, %rsi
	mov	$0x1002, %edi		/* ARCH_SET_FS */
	mov	$158, %eax		/* SYS_arch_prctl */
	syscall
2:
.endm

/* %fs = %rdi unless this M's %fs is that already (a G resuming on the M
 * it left, or g0 that never changed it).  The M's record is written
 * before the base: a signal handler in between that switches %fs for
 * itself puts back the base it found (goro__sig_leave), never the
 * record, so the record can only be ahead, never claim a base that was
 * not written.  Same clobbers as WRFS. */
.macro SETFS
	cmp	%rdi, %gs:M_FS
	je	3f
	mov	%rdi, %gs:M_FS
	incq	%gs:M_FSWRITES
	WRFS	1
3:
.endm

/* Save / load the callee-saved context at \ctx (struct goro_gctx). */
.macro SAVECTX ctx
	mov	%rsp, 0(\ctx)
	mov	%rbx, 8(\ctx)
	mov	%rbp, 16(\ctx)
	mov	%r12, 24(\ctx)
	mov	%r13, 32(\ctx)
	mov	%r14, 40(\ctx)
	mov	%r15, 48(\ctx)
	stmxcsr	56(\ctx)
	fnstcw	60(\ctx)
.endm

.macro LOADGPRS ctx
	mov	0(\ctx), %rsp
	mov	8(\ctx), %rbx
	mov	16(\ctx), %rbp
	mov	24(\ctx), %r12
	mov	32(\ctx), %r13
	mov	40(\ctx), %r14
	mov	48(\ctx), %r15
.endm

/* void goro__mcall(struct goro_gctx *save, void (*fn)(struct g *),
 *                  struct g *gp, uintptr_t g0top, struct g *g0)
 * %fs keeps the G's TCB: g0 reads no TLS (sched/runtime.h getg). */
	.globl	goro__mcall
	.hidden	goro__mcall
	.type	goro__mcall, @function
goro__mcall:
	.cfi_startproc
	SAVECTX	%rdi
	mov	%r8, %gs:M_GCUR
	mov	%rcx, %rsp
	mov	%rdx, %rdi
	xor	%ebp, %ebp
	call	*%rsi
	ud2
	.cfi_endproc
	.size	goro__mcall, .-goro__mcall

/* void goro__gogo(struct goro_gctx *ctx, struct g *gp) -- does not return.
 * gp->tp is at offset 64 of struct g (after its goro_gctx). */
	.globl	goro__gogo
	.hidden	goro__gogo
	.type	goro__gogo, @function
goro__gogo:
	.cfi_startproc
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	64(%rsi), %rdi
	SETFS
	mov	%r13, %gs:M_GCUR
	mov	%r12, %rdi
	ldmxcsr	56(%rdi)
	fldcw	60(%rdi)
	LOADGPRS %rdi
	ret
	.cfi_endproc
	.size	goro__gogo, .-goro__gogo

/* void goro__gswitch(struct goro_gctx *save, _Atomic uint32_t *saved,
 *                    struct goro_gctx *to, struct g *to_g)
 * Direct G-to-G switch (Gosched's fast path): save the current context,
 * move to `to`'s stack (a signal from here on lands there, never on the
 * G being left, which another M may resume as soon as it is published),
 * write %fs, make to_g current, publish *saved = 1 (a plain x86 store is
 * a release), then load `to`. */
	.globl	goro__gswitch
	.hidden	goro__gswitch
	.type	goro__gswitch, @function
goro__gswitch:
	.cfi_startproc
	SAVECTX	%rdi
	mov	%rdx, %r12
	mov	%rdi, %r13
	mov	%rsi, %r14
	mov	%rcx, %r15
	mov	0(%r12), %rsp
	mov	64(%rcx), %rdi
	SETFS
	mov	%r15, %gs:M_GCUR
	movl	$1, (%r14)
	/* Reload the control words only when they differ: ldmxcsr and fldcw
	 * are slow and nearly every G runs with the defaults. */
	mov	56(%r12), %eax
	cmp	56(%r13), %eax
	je	3f
	ldmxcsr	56(%r12)
3:	movzwl	60(%r12), %eax
	cmpw	60(%r13), %ax
	je	4f
	fldcw	60(%r12)
4:	mov	%r12, %r8		/* LOADGPRS overwrites r12 */
	LOADGPRS %r8
	ret
	.cfi_endproc
	.size	goro__gswitch, .-goro__gswitch

/* First frame of a new G: goro__newproc stores gp in r12 and makes the
 * first gogo "return" here with rsp 16-byte aligned.  The undefined return
 * address ends every unwind (backtraces, pthread_exit's forced unwind) at
 * this frame. */
	.globl	goro__gstart
	.hidden	goro__gstart
	.type	goro__gstart, @function
goro__gstart:
	.cfi_startproc
	.cfi_undefined rip
	xor	%ebp, %ebp
	mov	%r12, %rdi
	call	goro__gmain
	ud2
	.cfi_endproc
	.size	goro__gstart, .-goro__gstart

/* void goro__setfs(void *tp): through the M's record (SETFS). */
	.globl	goro__setfs
	.hidden	goro__setfs
	.type	goro__setfs, @function
goro__setfs:
	.cfi_startproc
	SETFS
	ret
	.cfi_endproc
	.size	goro__setfs, .-goro__setfs

/* void goro__setfs_raw(void *tp): the base only (signal handlers). */
	.globl	goro__setfs_raw
	.hidden	goro__setfs_raw
	.type	goro__setfs_raw, @function
goro__setfs_raw:
	.cfi_startproc
	WRFS
	ret
	.cfi_endproc
	.size	goro__setfs_raw, .-goro__setfs_raw

/* void goro__setgs(struct m *mp): once per kernel thread. */
	.globl	goro__setgs
	.hidden	goro__setgs
	.type	goro__setgs, @function
goro__setgs:
	.cfi_startproc
	cmpb	$0, goro__fsgsbase(%rip)
	je	1f
	wrgsbase %rdi
	ret
1:	mov	%rdi, %rsi
	mov	$0x1001, %edi		/* ARCH_SET_GS */
	mov	$158, %eax		/* SYS_arch_prctl */
	syscall
	ret
	.cfi_endproc
	.size	goro__setgs, .-goro__setgs

/* void *goro__getgs_slow(void) */
	.globl	goro__getgs_slow
	.hidden	goro__getgs_slow
	.type	goro__getgs_slow, @function
goro__getgs_slow:
	.cfi_startproc
	sub	$8, %rsp
	.cfi_adjust_cfa_offset 8
	movq	$0, (%rsp)
	mov	%rsp, %rsi
	mov	$0x1004, %edi		/* ARCH_GET_GS */
	mov	$158, %eax
	syscall
	pop	%rax
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	goro__getgs_slow, .-goro__getgs_slow

/* void *goro__getfs(void): the thread pointer (%fs:0 is tcb->tcb = tp). */
	.globl	goro__getfs
	.hidden	goro__getfs
	.type	goro__getfs, @function
goro__getfs:
	.cfi_startproc
	mov	%fs:0, %rax
	ret
	.cfi_endproc
	.size	goro__getfs, .-goro__getfs

/* Asynchronous preemption (Go: asyncPreempt).  The signal handler made
 * the interrupted G "call" here: it stored the interrupted rip at
 * orig_rsp - 136 and set rsp to that slot, leaving the 128-byte red zone
 * below orig_rsp untouched.  Save every register and the full extended
 * state (xsave, all enabled components), yield, restore, and return with
 * `ret $128`, which pops rip and lands rsp exactly on orig_rsp. */
	.globl	goro__asyncpreempt
	.hidden	goro__asyncpreempt
	.type	goro__asyncpreempt, @function
goro__asyncpreempt:
	.cfi_startproc
	.cfi_def_cfa_offset 8
	pushfq
	.cfi_adjust_cfa_offset 8
	push	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -24
	mov	%rsp, %rbp
	.cfi_def_cfa_register rbp
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %r12
	mov	goro__xsave_size(%rip), %rax
	sub	%rax, %rsp
	and	$-64, %rsp
	/* xsave needs a zeroed header (bytes 512..575). */
	xor	%eax, %eax
	mov	$8, %ecx
	lea	512(%rsp), %rdi
1:	mov	%rax, (%rdi)
	add	$8, %rdi
	dec	%ecx
	jnz	1b
	mov	$-1, %eax
	mov	$-1, %edx
	xsave64	(%rsp)
	mov	%r12, %rdi		/* the saved GPRs: r15 first, rax last */
	call	goro__asyncpreempt2
	mov	$-1, %eax
	mov	$-1, %edx
	xrstor64 (%rsp)
	mov	%r12, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	pop	%rbp
	.cfi_def_cfa rsp, 16
	popfq
	.cfi_def_cfa_offset 8
	ret	$128
	.cfi_endproc
	.size	goro__asyncpreempt, .-goro__asyncpreempt

	.section .note.GNU-stack,"",@progbits
