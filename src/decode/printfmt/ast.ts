// Syntax tree of a `print fmt:` line: a format string and C argument
// expressions. Produced by parser.ts, consumed by compiler.ts.

import type { IntType } from '../ctypes.js';

/** A type name in a cast, sizeof or declaration: "unsigned long", "struct page *", typeof(x). */
export interface TypeName {
  /** Base type words, qualifiers removed ("unsigned long", "struct page"). */
  readonly base: string;
  /** Number of `*`. */
  readonly pointers: number;
  /** `typeof(expr)` / `__auto_type`: the type of an expression. */
  readonly typeofExpr: Expr | null;
}

export type BinaryOp =
  | '*' | '/' | '%' | '+' | '-' | '<<' | '>>'
  | '<' | '>' | '<=' | '>=' | '==' | '!='
  | '&' | '^' | '|' | '&&' | '||';

export type UnaryOp = '-' | '+' | '!' | '~' | '*' | '&';

/** An expression of a print fmt argument list. */
export type Expr =
  /** Integer or character literal, with its C type. */
  | { readonly k: 'int'; readonly value: bigint; readonly type: IntType }
  | { readonly k: 'str'; readonly value: string }
  | { readonly k: 'ident'; readonly name: string }
  /** REC->name (also (REC)->name). */
  | { readonly k: 'field'; readonly name: string }
  | { readonly k: 'member'; readonly object: Expr; readonly name: string; readonly arrow: boolean }
  | { readonly k: 'index'; readonly object: Expr; readonly index: Expr }
  | { readonly k: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly pos: number }
  | { readonly k: 'cast'; readonly type: TypeName; readonly expr: Expr }
  | { readonly k: 'sizeof'; readonly type: TypeName | null; readonly expr: Expr | null }
  | { readonly k: 'unary'; readonly op: UnaryOp; readonly expr: Expr }
  | { readonly k: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | { readonly k: 'cond'; readonly test: Expr; readonly then: Expr; readonly else: Expr }
  /** `{ a, "b" }`: entries of __print_flags / __print_symbolic tables. */
  | { readonly k: 'init'; readonly items: readonly Expr[] }
  /** GNU statement expression `({ decl; ...; value; })`. */
  | { readonly k: 'block'; readonly stmts: readonly Stmt[] }
  | { readonly k: 'assign'; readonly target: Expr; readonly value: Expr }
  | { readonly k: 'comma'; readonly exprs: readonly Expr[] };

export type Stmt =
  | {
      readonly k: 'decl';
      readonly type: TypeName;
      readonly name: string;
      readonly isArray: boolean;
      readonly isStatic: boolean;
      readonly init: Expr | null;
    }
  | { readonly k: 'expr'; readonly expr: Expr };

/** A parsed print fmt: its format string and arguments. */
export interface PrintFmtAst {
  /** The format string (adjacent literals concatenated, escapes decoded). */
  readonly format: string;
  readonly args: readonly Expr[];
}
