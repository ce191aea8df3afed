// Recursive-descent parser for `print fmt:` text: "<format>", arg, arg...
//
// Arguments are C expressions over the record (REC->field), literals,
// casts, sizeof, all C operators, helper calls (__print_flags...) with
// brace tables, and GNU statement expressions `({ int x = a; ...; x; })`
// (min()/max() expansions). Nesting is bounded so hostile input cannot
// exhaust the stack; everything else is rejected with PrintFmtSyntaxError.

import { type IntType, S32, S64, U32, U64, scalarType } from '../ctypes.js';
import type { BinaryOp, Expr, PrintFmtAst, Stmt, TypeName } from './ast.js';
import { PrintFmtSyntaxError, type Token, tokenize } from './lexer.js';

export const PARSER_LIMITS = {
  /** Nesting of parentheses, calls, ternaries, casts and blocks while parsing. */
  maxDepth: 96,
  /** Depth of an argument's expression tree (operator chains included). */
  maxTreeDepth: 256,
  /** Arguments of one call (and entries of one brace table). */
  maxArgs: 4096,
  /** Statements of one statement expression. */
  maxStatements: 256,
} as const;

const TYPE_KEYWORDS = new Set([
  'unsigned', 'signed', 'char', 'short', 'int', 'long', 'void', 'bool', '_Bool', 'struct', 'union', 'enum',
  'const', 'volatile', 'typeof', '__typeof__', '__auto_type', 'float', 'double',
]);
const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', '__user', '__iomem', '__rcu', '__percpu', '__force']);

const BINARY_PRECEDENCE: ReadonlyMap<string, number> = new Map([
  ['||', 1], ['&&', 2], ['|', 3], ['^', 4], ['&', 5],
  ['==', 6], ['!=', 6], ['<', 7], ['>', 7], ['<=', 7], ['>=', 7],
  ['<<', 8], ['>>', 8], ['+', 9], ['-', 9], ['*', 10], ['/', 10], ['%', 10],
]);

/** Options of parsePrintFmt(). */
export interface ParseOptions {
  /** The recording kernel's `long` size (literal types), default 8. */
  longSize?: 4 | 8;
}

/** Parses a print fmt; throws PrintFmtSyntaxError (a MalformedInputError). */
export function parsePrintFmt(text: string, options: ParseOptions = {}): PrintFmtAst {
  const ast = new Parser(tokenize(text), options.longSize ?? 8).parseTop();
  // Operator chains ("a + b + c ...") nest without parser recursion; the
  // compiler and the compiled closures recurse per level, so bound the tree.
  for (const a of ast.args) {
    const d = astDepth(a);
    if (d > PARSER_LIMITS.maxTreeDepth) throw new PrintFmtSyntaxError(`print fmt: expression nesting ${d} exceeds ${PARSER_LIMITS.maxTreeDepth}`);
  }
  return ast;
}

function children(e: Expr): readonly (Expr | null)[] {
  switch (e.k) {
    case 'member':
      return [e.object];
    case 'index':
      return [e.object, e.index];
    case 'call':
      return e.args;
    case 'cast':
      return [e.expr, e.type.typeofExpr];
    case 'sizeof':
      return [e.expr, e.type?.typeofExpr ?? null];
    case 'unary':
      return [e.expr];
    case 'binary':
      return [e.left, e.right];
    case 'cond':
      return [e.test, e.then, e.else];
    case 'init':
      return e.items;
    case 'block':
      return e.stmts.flatMap((st) => (st.k === 'decl' ? [st.init, st.type.typeofExpr] : [st.expr]));
    case 'assign':
      return [e.target, e.value];
    case 'comma':
      return e.exprs;
    default:
      return [];
  }
}

/** Depth of an expression tree, computed without recursion. */
export function astDepth(root: Expr): number {
  let max = 0;
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [e, d] = stack.pop()!;
    if (d > max) max = d;
    for (const c of children(e)) if (c !== null) stack.push([c, d + 1]);
  }
  return max;
}

class Parser {
  readonly #t: Token[];
  readonly #longSize: 4 | 8;
  #i = 0;
  #depth = 0;
  /** Names declared in enclosing statement expressions (they are not types). */
  readonly #locals: Set<string>[] = [];

  constructor(tokens: Token[], longSize: 4 | 8) {
    this.#t = tokens;
    this.#longSize = longSize;
  }

  #peek(o = 0): Token {
    return this.#t[Math.min(this.#i + o, this.#t.length - 1)]!;
  }

  #next(): Token {
    const t = this.#t[this.#i]!;
    if (this.#i < this.#t.length - 1) this.#i++;
    return t;
  }

  #is(text: string, o = 0): boolean {
    const t = this.#peek(o);
    return t.kind === 'punct' && t.text === text;
  }

  #accept(text: string): boolean {
    if (this.#is(text)) {
      this.#next();
      return true;
    }
    return false;
  }

  #expect(text: string): void {
    if (!this.#accept(text)) this.#fail(`expected "${text}"`);
  }

  #fail(message: string, t: Token = this.#peek()): never {
    const near = t.kind === 'eof' ? 'end of input' : `"${t.text.slice(0, 40)}"`;
    throw new PrintFmtSyntaxError(`print fmt: ${message} near ${near} (offset ${t.pos})`);
  }

  #enter(): void {
    if (++this.#depth > PARSER_LIMITS.maxDepth) this.#fail(`nesting deeper than ${PARSER_LIMITS.maxDepth}`);
  }

  #leave(): void {
    this.#depth--;
  }

  #isLocal(name: string): boolean {
    return this.#locals.some((s) => s.has(name));
  }

  parseTop(): PrintFmtAst {
    if (this.#peek().kind !== 'string') this.#fail('expected the format string');
    let format = '';
    while (this.#peek().kind === 'string') format += this.#next().text;
    const args: Expr[] = [];
    while (this.#accept(',')) {
      if (args.length >= PARSER_LIMITS.maxArgs) this.#fail('too many arguments');
      args.push(this.#assignment());
    }
    if (this.#peek().kind !== 'eof') this.#fail('unexpected token after the arguments');
    return { format, args };
  }

  /** Full expression with the comma operator (inside parentheses). */
  #expression(): Expr {
    const first = this.#assignment();
    if (!this.#is(',')) return first;
    const exprs = [first];
    while (this.#accept(',')) {
      if (exprs.length >= PARSER_LIMITS.maxArgs) this.#fail('too many comma operands');
      exprs.push(this.#assignment());
    }
    return { k: 'comma', exprs };
  }

  #assignment(): Expr {
    this.#enter();
    try {
      const left = this.#conditional();
      if (this.#is('=')) {
        this.#next();
        const value = this.#assignment();
        return { k: 'assign', target: left, value };
      }
      if (this.#peek().kind === 'punct' && /^([-+*/%&^|]|<<|>>)=$/.test(this.#peek().text)) {
        this.#fail('compound assignment is not supported');
      }
      return left;
    } finally {
      this.#leave();
    }
  }

  #conditional(): Expr {
    const test = this.#binary(1);
    if (!this.#accept('?')) return test;
    this.#enter();
    try {
      // GNU "a ?: b" is not used by the kernel's format files.
      const then = this.#expression();
      this.#expect(':');
      const otherwise = this.#conditional();
      return { k: 'cond', test, then, else: otherwise };
    } finally {
      this.#leave();
    }
  }

  /** Precedence climbing over the binary operators (one stack frame per level). */
  #binary(minPrec: number): Expr {
    let left = this.#cast();
    for (;;) {
      const t = this.#peek();
      if (t.kind !== 'punct') return left;
      const prec = BINARY_PRECEDENCE.get(t.text);
      if (prec === undefined || prec < minPrec) return left;
      this.#next();
      this.#enter();
      try {
        const right = this.#binary(prec + 1);
        left = { k: 'binary', op: t.text as BinaryOp, left, right };
      } finally {
        this.#leave();
      }
    }
  }

  /** Is the token sequence after '(' a type name followed by ')'? */
  #looksLikeType(o: number): boolean {
    const t = this.#peek(o);
    if (t.kind !== 'ident') return false;
    if (TYPE_KEYWORDS.has(t.text) || QUALIFIERS.has(t.text)) return true;
    if (this.#isLocal(t.text) || t.text === 'REC') return false;
    // ident ['*'...] ')'
    let j = o + 1;
    let stars = 0;
    while (this.#is('*', j)) {
      j++;
      stars++;
    }
    if (!this.#is(')', j)) {
      // "u32 *" style already covered; other forms: "xfs_ino_t const".
      return false;
    }
    if (stars > 0) return true;
    if (scalarType(t.text, this.#longSize) !== null) return true;
    // A lone unknown identifier in parentheses is a cast when an operand follows.
    const after = this.#peek(j + 1);
    return after.kind === 'ident' || after.kind === 'number' || after.kind === 'char' || after.kind === 'string' || (after.kind === 'punct' && after.text === '(');
  }

  #typeName(): TypeName {
    const words: string[] = [];
    let typeofExpr: Expr | null = null;
    for (;;) {
      const t = this.#peek();
      if (t.kind !== 'ident') break;
      if (t.text === 'typeof' || t.text === '__typeof__') {
        this.#next();
        this.#expect('(');
        this.#enter();
        try {
          typeofExpr = this.#looksLikeType(0) ? typeExpr(this.#typeName()) : this.#expression();
        } finally {
          this.#leave();
        }
        this.#expect(')');
        continue;
      }
      if (t.text === '__auto_type') {
        this.#next();
        words.push('__auto_type');
        continue;
      }
      if (QUALIFIERS.has(t.text)) {
        this.#next();
        continue;
      }
      if (typeofExpr !== null) break;
      // Stop before the declarator name in declarations ("int x"): a word
      // after a complete type is the name, unless it is a type keyword.
      if (words.length > 0 && !TYPE_KEYWORDS.has(t.text) && !isTypeContinuation(words)) break;
      words.push(this.#next().text);
      if (words.length > 8) this.#fail('type name too long');
      if (words[0] === 'struct' || words[0] === 'union' || words[0] === 'enum') {
        if (words.length === 2) break;
      }
    }
    let pointers = 0;
    while (this.#accept('*')) {
      pointers++;
      while (this.#peek().kind === 'ident' && QUALIFIERS.has(this.#peek().text)) this.#next();
      if (pointers > 8) this.#fail('too many *');
    }
    if (words.length === 0 && typeofExpr === null) this.#fail('expected a type name');
    return { base: words.join(' '), pointers, typeofExpr };
  }

  #cast(): Expr {
    if (this.#is('(') && !this.#is('{', 1) && this.#looksLikeType(1)) {
      this.#next();
      this.#enter();
      try {
        const type = this.#typeName();
        this.#expect(')');
        // Compound literals "(type){...}" are not C expressions we support.
        if (this.#is('{')) this.#fail('compound literals are not supported');
        const expr = this.#cast();
        return { k: 'cast', type, expr };
      } finally {
        this.#leave();
      }
    }
    return this.#unary();
  }

  #unary(): Expr {
    const t = this.#peek();
    if (t.kind === 'punct' && (t.text === '-' || t.text === '+' || t.text === '!' || t.text === '~' || t.text === '*' || t.text === '&')) {
      this.#next();
      this.#enter();
      try {
        return { k: 'unary', op: t.text, expr: this.#cast() };
      } finally {
        this.#leave();
      }
    }
    if (t.kind === 'punct' && (t.text === '++' || t.text === '--')) this.#fail('increment and decrement are not supported');
    if (t.kind === 'ident' && t.text === 'sizeof') {
      this.#next();
      this.#enter();
      try {
        if (this.#is('(') && this.#looksLikeType(1)) {
          this.#next();
          const type = this.#typeName();
          this.#expect(')');
          return { k: 'sizeof', type, expr: null };
        }
        return { k: 'sizeof', type: null, expr: this.#unary() };
      } finally {
        this.#leave();
      }
    }
    return this.#postfix();
  }

  #postfix(): Expr {
    let e = this.#primary();
    let steps = 0;
    for (;;) {
      if (++steps > PARSER_LIMITS.maxArgs) this.#fail('expression too long');
      if (this.#accept('[')) {
        this.#enter();
        try {
          const index = this.#expression();
          this.#expect(']');
          e = { k: 'index', object: e, index };
        } finally {
          this.#leave();
        }
        continue;
      }
      if (this.#is('->') || this.#is('.')) {
        const arrow = this.#next().text === '->';
        const name = this.#next();
        if (name.kind !== 'ident') this.#fail('expected a member name', name);
        // REC->x and (REC)->x name record fields.
        if (arrow && e.k === 'ident' && e.name === 'REC') e = { k: 'field', name: name.text };
        else e = { k: 'member', object: e, name: name.text, arrow };
        continue;
      }
      if (this.#is('(')) {
        if (e.k !== 'ident') this.#fail('only named functions can be called');
        const pos = this.#next().pos;
        this.#enter();
        try {
          const args: Expr[] = [];
          if (!this.#is(')')) {
            do {
              if (args.length >= PARSER_LIMITS.maxArgs) this.#fail('too many arguments');
              args.push(this.#assignment());
            } while (this.#accept(','));
          }
          this.#expect(')');
          e = { k: 'call', name: e.name, args, pos };
        } finally {
          this.#leave();
        }
        continue;
      }
      if (this.#is('++') || this.#is('--')) this.#fail('increment and decrement are not supported');
      return e;
    }
  }

  #primary(): Expr {
    const t = this.#peek();
    switch (t.kind) {
      case 'ident':
        this.#next();
        return { k: 'ident', name: t.text };
      case 'number':
        this.#next();
        return { k: 'int', value: t.value, type: this.#literalType(t) };
      case 'char':
        this.#next();
        return { k: 'int', value: t.value, type: S32 };
      case 'string': {
        let value = '';
        while (this.#peek().kind === 'string') value += this.#next().text;
        return { k: 'str', value };
      }
      case 'punct':
        if (t.text === '(') {
          this.#next();
          this.#enter();
          try {
            if (this.#is('{')) {
              const block = this.#block();
              this.#expect(')');
              return block;
            }
            const e = this.#expression();
            this.#expect(')');
            return e;
          } finally {
            this.#leave();
          }
        }
        if (t.text === '{') {
          this.#next();
          this.#enter();
          try {
            const items: Expr[] = [];
            if (!this.#is('}')) {
              do {
                if (this.#is('}')) break; // trailing comma
                if (items.length >= PARSER_LIMITS.maxArgs) this.#fail('initializer too long');
                items.push(this.#assignment());
              } while (this.#accept(','));
            }
            this.#expect('}');
            return { k: 'init', items };
          } finally {
            this.#leave();
          }
        }
        break;
      default:
        break;
    }
    this.#fail('expected an expression');
  }

  /** `{ stmt; stmt; expr; }` after '(' (the caller consumes the closing ')'). */
  #block(): Expr {
    this.#expect('{');
    const locals = new Set<string>();
    this.#locals.push(locals);
    try {
      const stmts: Stmt[] = [];
      while (!this.#is('}')) {
        if (this.#peek().kind === 'eof') this.#fail('unterminated statement expression');
        if (stmts.length >= PARSER_LIMITS.maxStatements) this.#fail('statement expression too long');
        if (this.#accept(';')) continue;
        stmts.push(this.#statement(locals));
      }
      this.#expect('}');
      return { k: 'block', stmts };
    } finally {
      this.#locals.pop();
    }
  }

  #statement(locals: Set<string>): Stmt {
    let isStatic = false;
    if (this.#peek().kind === 'ident' && this.#peek().text === 'static') {
      this.#next();
      isStatic = true;
    }
    if (isStatic || this.#startsDeclaration()) {
      const type = this.#typeName();
      const name = this.#next();
      if (name.kind !== 'ident') this.#fail('expected a variable name', name);
      let isArray = false;
      if (this.#accept('[')) {
        isArray = true;
        if (!this.#is(']')) this.#expression();
        this.#expect(']');
      }
      let init: Expr | null = null;
      if (this.#accept('=')) init = this.#assignment();
      this.#expect(';');
      locals.add(name.text);
      return { k: 'decl', type, name: name.text, isArray, isStatic, init };
    }
    const expr = this.#expression();
    this.#expect(';');
    return { k: 'expr', expr };
  }

  #startsDeclaration(): boolean {
    const t = this.#peek();
    if (t.kind !== 'ident') return false;
    if (TYPE_KEYWORDS.has(t.text) || QUALIFIERS.has(t.text)) return true;
    if (this.#isLocal(t.text) || t.text === 'REC') return false;
    // "typedef_t name" / "typedef_t *name"
    const n = this.#peek(1);
    if (n.kind === 'ident') return true;
    if (n.kind === 'punct' && n.text === '*') {
      const m = this.#peek(2);
      return m.kind === 'ident' && (this.#is('=', 3) || this.#is(';', 3));
    }
    return false;
  }

  #literalType(t: Token): IntType {
    const v = t.value;
    const long: IntType = this.#longSize === 8 ? S64 : S32;
    const ulong: IntType = this.#longSize === 8 ? U64 : U32;
    let candidates: IntType[];
    if (t.longs === 0) {
      candidates = t.unsigned ? [U32, ulong, U64] : t.nonDecimal ? [S32, U32, long, ulong, S64, U64] : [S32, long, S64];
    } else if (t.longs === 1) {
      candidates = t.unsigned ? [ulong, U64] : t.nonDecimal ? [long, ulong, S64, U64] : [long, S64];
    } else {
      candidates = t.unsigned ? [U64] : t.nonDecimal ? [S64, U64] : [S64];
    }
    for (const c of candidates) {
      const max = c.signed ? (1n << BigInt(c.size * 8 - 1)) - 1n : (1n << BigInt(c.size * 8)) - 1n;
      if (v <= max) return c;
    }
    return U64;
  }
}

/** Whether another (non-keyword) word continues the type in `words`: the tag of struct/union/enum. */
function isTypeContinuation(words: string[]): boolean {
  const first = words[0]!;
  if (first === 'struct' || first === 'union' || first === 'enum') return words.length === 1;
  return false;
}

/** typeof(type): represented as a cast of 0 to that type. */
function typeExpr(type: TypeName): Expr {
  return { k: 'cast', type, expr: { k: 'int', value: 0n, type: S32 } };
}
