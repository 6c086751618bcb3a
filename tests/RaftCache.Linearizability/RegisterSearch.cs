using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace RaftCache.Linearizability;

/// <summary>The linearizability search for the operations on one key, modelled as a register.</summary>
/// <remarks>
/// <para>
/// Wing and Gong (1993): keep the history as a doubly-linked list of call and return events sorted by time. A call that
/// comes before the first return in the list is minimal: no pending operation finished before it started, so it may be
/// linearized next. Depth-first, lift a minimal call whose model step is consistent (unlink its call and return), and
/// when no minimal call can be lifted (the next return event belongs to an operation that had to be linearized by then)
/// backtrack: pop the last lifted call, relink it and try the next candidate. Porcupine tries minimal calls in list
/// (invocation) order; here they are tried in completion order, see <see cref="SortByReturn"/>.
/// </para>
/// <para>
/// Lowe (2017, "Testing for linearizability"), as used by Porcupine: two search nodes with the same set of linearized
/// operations and the same model state have the same futures, so each (set, state) pair is explored at most once. This
/// memoization is what makes histories of thousands of operations with tens of clients tractable.
/// </para>
/// <para>
/// Operation i's call event is list node 2i and its return event node 2i + 1; node 2n is the head sentinel. The register
/// state is the id of the current value (values are interned per key) or <see cref="Absent"/>, so a state costs an int
/// to hash and compare instead of the value's bytes.
/// </para>
/// <para>
/// Compare-and-set: <c>CompareAndSet(v, expected e)</c> sets the value to v if the state is e (a value, or absent) and
/// otherwise leaves it alone. A known success needs the state to be e, a known failure needs it not to be e, and an
/// Unknown one, if placed, does whatever the state dictates. Every expected value has an id of its own, never
/// <see cref="Unread"/>, so "the state is e" is an exact comparison of ints.
/// </para>
/// </remarks>
internal sealed class RegisterSearch
{
    private const int Absent = -1;

    /// <summary>The state of a register holding a value that no Get read and no CompareAndSet expects (see <see cref="Create"/>).</summary>
    private const int Unread = -2;
    private const int Nil = -1;
    private const int NoGuard = int.MinValue;
    private const int UnknownDeletes = 1;
    private const int UnknownUnreadPuts = 2;

    /// <summary>The deadline is read once per this many steps; a step costs well under a microsecond.</summary>
    private const int DeadlinePollMask = 1023;

    private readonly string _key;
    private readonly Operation[] _ops;
    private readonly OperationKind[] _kinds;

    /// <summary>
    /// Put and CompareAndSet: id of the value written. Get: id of the value read, or Absent. Delete: 1 existed, 0 not,
    /// -1 unknown.
    /// </summary>
    private readonly int[] _arguments;

    /// <summary>CompareAndSet: id of the expected value, or Absent.</summary>
    private readonly int[] _expected;

    /// <summary>CompareAndSet: 1 succeeded, 0 failed, -1 unknown (an Unknown outcome).</summary>
    private readonly sbyte[] _succeeded;
    private readonly bool[] _completed;
    private readonly int _completedCount;
    private readonly List<byte[]> _values;
    private readonly HashSet<int> _writtenValues;
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly ulong[] _zobrist;
    private readonly long[] _returnTimes;

    // Deepest point where the search got stuck, kept to explain a violation or a timeout.
    private int[] _stuckPrefix = [];
    private int _stuckState = Absent;
    private int[] _stuckCandidates = [];
    private int _stuckBlocker = Nil;

    private RegisterSearch(string key, Operation[] ops, List<byte[]> values, int[] arguments, int[] expected, sbyte[] succeeded)
    {
        _key = key;
        _ops = ops;
        _values = values;
        _arguments = arguments;
        _expected = expected;
        _succeeded = succeeded;
        var n = ops.Length;
        _kinds = new OperationKind[n];
        _completed = new bool[n];
        _writtenValues = [];
        _zobrist = new ulong[n];
        _returnTimes = new long[n];
        var state = (ulong)key.GetHashCode(StringComparison.Ordinal);
        for (var i = 0; i < n; i++)
        {
            _kinds[i] = ops[i].Kind;
            _completed[i] = ops[i].Outcome == OperationOutcome.Ok;
            _completedCount += _completed[i] ? 1 : 0;
            if (_kinds[i] is OperationKind.Put or OperationKind.CompareAndSet)
            {
                _writtenValues.Add(arguments[i]);
            }

            _zobrist[i] = SplitMix64(ref state);
            _returnTimes[i] = EventTime(2 * i + 1);
        }

        // Sort events by time; at equal times calls go before returns, so operations whose intervals only touch are
        // treated as concurrent. That can only make more histories linearizable, never flag a correct one.
        var events = new int[2 * n];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = i;
        }

        Array.Sort(events, CompareEvents);
        _next = new int[2 * n + 1];
        _prev = new int[2 * n + 1];
        var previous = 2 * n;
        foreach (var node in events)
        {
            _next[previous] = node;
            _prev[node] = previous;
            previous = node;
        }

        _next[previous] = Nil;
    }

    /// <summary>Prepares the search over <paramref name="operations"/>, all on <paramref name="key"/>.</summary>
    public static RegisterSearch Create(string key, IEnumerable<Operation> operations)
    {
        var relevant = operations
            .Where(op => op.Outcome == OperationOutcome.Ok
                || (op.Outcome == OperationOutcome.Unknown && op.Kind != OperationKind.Get))
            .OrderBy(op => op.InvokedAt)
            .ThenBy(op => op.Id)
            .ToList();

        // Only values some Get read, or some CompareAndSet expects, get an id of their own; every other value a Put or
        // CompareAndSet writes is Unread. No Get can tell two unread values apart, no CompareAndSet expects either, and a
        // Delete only asks whether there is a value, so the register states they stand for have the same futures, and
        // giving them one id lets the memoization merge them: the order of concurrent writes nobody read stops mattering.
        // An expected value must have its own id even when only an Unknown CompareAndSet expects it: otherwise an unread
        // state would compare equal to it.
        var valueIds = new Dictionary<byte[], int>(ByteArrayComparer.Instance);
        var values = new List<byte[]>();
        void Intern(byte[] value)
        {
            if (valueIds.TryAdd(value, values.Count))
            {
                values.Add(value);
            }
        }

        foreach (var op in relevant)
        {
            if (op.Kind == OperationKind.Get && op.ReadValue is not null)
            {
                Intern(op.ReadValue);
            }
            else if (op.Kind == OperationKind.CompareAndSet && op.ExpectedValue is not null)
            {
                Intern(op.ExpectedValue);
            }
        }

        int ValueId(byte[] value) => valueIds.TryGetValue(value, out var id) ? id : Unread;

        // An Unknown write that nothing can observe is equivalent to one never applied, so it is dropped up front. Take a
        // linearization that places such a write w, and the operations after it up to the next Put or Delete (which set
        // the state whatever it was). Without w they see the state before w instead of w's; that is still a
        // linearization if no completed operation among them needed w's state, once every Unknown CompareAndSet among
        // them that w's state made a no-op is left unapplied (it may never have been applied):
        // - w a Put of an unread value, or an Unknown CompareAndSet writing one (when it applies, it is such a Put):
        //   until the next Put or Delete no Get can read the state and no CompareAndSet can apply (none reads or expects
        //   an unread value), so only an operation that asks whether the key exists, or whether it differs from some
        //   value, can need w: a Delete reporting that the key existed, or any failed CompareAndSet (expected absent:
        //   the key exists; expected e: the value is not e).
        // - w an Unknown Delete: the key is absent until the next Put or Delete or a CompareAndSet expecting absent, so
        //   the operations that can need w are a Get that read absent, a Delete reporting the key did not exist, a
        //   CompareAndSet expecting absent that succeeded (or, Unknown, may have: an Unknown Delete can enable an
        //   Unknown put-if-absent whose value is read later), and a failed CompareAndSet expecting a value.
        var absenceObserved = false;
        var existenceObserved = false;
        foreach (var op in relevant)
        {
            switch (op.Kind)
            {
                case OperationKind.Get when op.Outcome == OperationOutcome.Ok:
                    absenceObserved |= op.ReadValue is null;
                    break;
                case OperationKind.Delete when op.Existed is bool existed:
                    absenceObserved |= !existed;
                    existenceObserved |= existed;
                    break;
                case OperationKind.CompareAndSet when op.Succeeded == false:
                    absenceObserved |= op.ExpectedValue is not null;
                    existenceObserved = true;
                    break;
                case OperationKind.CompareAndSet:
                    absenceObserved |= op.ExpectedValue is null;
                    break;
            }
        }

        relevant.RemoveAll(op => op.Outcome == OperationOutcome.Unknown && op.Kind switch
        {
            OperationKind.Put or OperationKind.CompareAndSet => !existenceObserved && ValueId(op.Value!) == Unread,
            _ => !absenceObserved,
        });

        var ops = relevant.ToArray();
        var arguments = new int[ops.Length];
        var expected = new int[ops.Length];
        var succeeded = new sbyte[ops.Length];
        for (var i = 0; i < ops.Length; i++)
        {
            arguments[i] = ops[i].Kind switch
            {
                OperationKind.Put or OperationKind.CompareAndSet => ValueId(ops[i].Value!),
                OperationKind.Get => ops[i].ReadValue is null ? Absent : ValueId(ops[i].ReadValue!),
                _ => ops[i].Existed switch { true => 1, false => 0, null => -1 },
            };
            expected[i] = ops[i].ExpectedValue is { } e ? ValueId(e) : Absent;
            succeeded[i] = ops[i].Succeeded switch { true => 1, false => 0, null => -1 };
        }

        return new RegisterSearch(key, ops, values, arguments, expected, succeeded);
    }

    /// <summary>Runs the search until it finds a linearization, proves there is none, or passes the deadline.</summary>
    /// <param name="deadline">A <see cref="Stopwatch.GetTimestamp"/> value.</param>
    /// <param name="cancellationToken">Stops the search with a Timeout verdict.</param>
    /// <remarks>
    /// <para>
    /// Three reductions on top of Wing and Gong's search and Lowe's memoization prune orders that cannot help; each
    /// keeps the search complete, so a failure is still a proof.
    /// </para>
    /// <para>
    /// Reads first: if a minimal read (a Get, or a CompareAndSet known to have failed) is consistent with the current
    /// state it is placed now and nothing else is tried at this node. A read does not change the state, so in any
    /// successful continuation it can be moved to the front: it sees the same state there, and being minimal, nothing
    /// had to precede it.
    /// </para>
    /// <para>
    /// Unknown writes only when observed at once: after placing an Unknown write (a "guarded" node, whose guard is the
    /// state before it) only an observer of it may come next, and an Unknown write is tried only when one is minimal.
    /// An observer is a completed operation that is inconsistent with the state before the write and consistent with
    /// the state after it (a Get, a Delete reporting whether the key existed, a CompareAndSet with a known result), or
    /// an Unknown CompareAndSet that would fail before the write and succeeds after it. Complete, because any
    /// linearization can be rewritten into one of that shape: take an Unknown write w followed by an operation y that is
    /// not an observer of it. If y is a completed read consistent with the state before w, swap them (w moves later;
    /// its window never ends). If y is a Put, a Delete consistent with the state before w (both leave Absent), or a
    /// CompareAndSet that succeeds from both states (it writes the same value), drop w. If y is an Unknown
    /// CompareAndSet that does nothing after w, drop y instead (it may never have been applied). Otherwise y is an
    /// observer. Each rewrite shortens the linearization or moves an Unknown write later, so they end; an Unknown write
    /// left last is dropped. An Unknown CompareAndSet observer is itself an Unknown write, so what follows it must
    /// observe it in turn: a chain of them ends in a completed observer.
    /// </para>
    /// <para>
    /// Interchangeable Unknown writes: all Unknown Deletes are alike, and so are all Unknown Puts of unread values, once
    /// they have been invoked. At each node only the earliest of each class is tried. Unknown CompareAndSets are each
    /// their own class: whether one applies depends on what it expects.
    /// </para>
    /// </remarks>
    public KeyCheckResult Run(long deadline, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var n = _ops.Length;
        var head = 2 * n;
        var bits = new ulong[(n + 63) / 64];
        var memo = new HashSet<MemoKey>(MemoKeyComparer.Instance);
        var stack = new Frame[n];
        var depth = 0;
        var bestDepth = -1;
        var candidates = new int[64];

        // The current node: the register state, the guard (NoGuard unless the last placed operation was an Unknown
        // write), the classes of interchangeable Unknown writes already tried here, and its candidates (the minimal
        // calls, kept at candidates[first..first + count), in the order they are tried) with the next one to try.
        var state = Absent;
        var guard = NoGuard;
        var tried = 0;
        var hash = 0UL;
        var remaining = _completedCount;
        var first = 0;
        var count = 0;
        var next = 0;
        var forced = false;
        var arrived = true;
        long steps = 0;

        while (remaining > 0)
        {
            if ((steps++ & DeadlinePollMask) == 0
                && (Stopwatch.GetTimestamp() >= deadline || cancellationToken.IsCancellationRequested))
            {
                return Result(Verdict.Timeout, steps, start, witness: null);
            }

            if (arrived)
            {
                arrived = false;
                next = 0;
                count = 0;
                var get = guard == NoGuard ? FirstConsistentRead(state) : Nil;
                forced = get != Nil;
                for (var node = forced ? get : _next[head]; node != Nil && (node & 1) == 0; node = _next[node])
                {
                    if (first + count >= candidates.Length)
                    {
                        Array.Resize(ref candidates, 2 * candidates.Length);
                    }

                    candidates[first + count++] = node;
                    if (forced)
                    {
                        // Reads first (see remarks): the only move tried at this node.
                        break;
                    }
                }

                SortByReturn(candidates.AsSpan(first, count));
            }

            if (next < count)
            {
                var entry = candidates[first + next];
                var op = entry >> 1;
                if ((forced || IsCandidate(op, state, guard, ref tried)) && TryStep(state, op, out var newState))
                {
                    var newGuard = _completed[op] ? NoGuard : state;
                    bits[op >> 6] |= 1UL << op;
                    hash ^= _zobrist[op];
                    if (!memo.Contains(new MemoKey(bits, newState, newGuard, hash)))
                    {
                        memo.Add(new MemoKey((ulong[])bits.Clone(), newState, newGuard, hash));
                        stack[depth++] = new Frame(entry, state, guard, tried, forced, first, count, next);
                        state = newState;
                        guard = newGuard;
                        tried = 0;
                        first += count;
                        Lift(entry);
                        if (_completed[op])
                        {
                            remaining--;
                        }

                        arrived = true;
                        continue;
                    }

                    // Seen before: every continuation from that node has already failed.
                    bits[op >> 6] &= ~(1UL << op);
                    hash ^= _zobrist[op];
                }

                next = forced ? count : next + 1;
                continue;
            }

            // No candidate works: some operation had to be placed by now (its return event comes next) but no order of
            // the minimal calls allows it. This node fails.
            if (depth > bestDepth)
            {
                bestDepth = depth;
                RememberStuck(stack, depth, state);
            }

            do
            {
                if (depth == 0)
                {
                    return Result(Verdict.NotLinearizable, steps, start, witness: null);
                }

                var frame = stack[--depth];
                var op = frame.Call >> 1;
                bits[op >> 6] &= ~(1UL << op);
                hash ^= _zobrist[op];
                Unlift(frame.Call);
                if (_completed[op])
                {
                    remaining++;
                }

                state = frame.State;
                guard = frame.Guard;
                tried = frame.Tried;
                forced = frame.Forced;
                first = frame.First;
                count = frame.Count;
                next = frame.Next + 1;
            }
            while (forced);
        }

        var witness = new Operation[depth];
        for (var i = 0; i < depth; i++)
        {
            witness[i] = _ops[stack[i].Call >> 1];
        }

        return Result(Verdict.Linearizable, steps, start, witness);
    }

    /// <summary>
    /// Orders a node's candidates by completion time, earliest first (insertion sort: there are about as many as
    /// concurrent clients). Any order keeps the search complete; this one tries first the operations that must take
    /// effect soonest, which are the likeliest to come next in the real execution, so linearizable histories need far
    /// less backtracking than in invocation order. Unknown writes complete at +infinity and so come last.
    /// </summary>
    private void SortByReturn(Span<int> calls)
    {
        for (var i = 1; i < calls.Length; i++)
        {
            var call = calls[i];
            var key = _returnTimes[call >> 1];
            var j = i - 1;
            while (j >= 0 && _returnTimes[calls[j] >> 1] > key)
            {
                calls[j + 1] = calls[j];
                j--;
            }

            calls[j + 1] = call;
        }
    }

    /// <summary>
    /// The first minimal call that is a read consistent with <paramref name="state"/>: a Get of it, or a CompareAndSet
    /// known to have failed that expects something else. Nil if none.
    /// </summary>
    private int FirstConsistentRead(int state)
    {
        for (var node = _next[2 * _ops.Length]; node != Nil && (node & 1) == 0; node = _next[node])
        {
            var op = node >> 1;
            if (_kinds[op] == OperationKind.Get ? _arguments[op] == state
                : _kinds[op] == OperationKind.CompareAndSet && _succeeded[op] == 0 && _expected[op] != state)
            {
                return node;
            }
        }

        return Nil;
    }

    /// <summary>Whether minimal call <paramref name="op"/> may be tried next at the current node (see <see cref="Run"/>).</summary>
    private bool IsCandidate(int op, int state, int guard, ref int tried)
    {
        if (guard != NoGuard)
        {
            return IsObserver(op, guard, state);
        }

        if (_completed[op])
        {
            return true;
        }

        var unknownClass = UnknownClass(op);
        if (unknownClass != 0)
        {
            if ((tried & unknownClass) != 0)
            {
                return false;
            }

            tried |= unknownClass;
        }

        TryStep(state, op, out var after);
        for (var node = _next[2 * _ops.Length]; node != Nil && (node & 1) == 0; node = _next[node])
        {
            if (IsObserver(node >> 1, state, after))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="op"/> needs the Unknown write that took the state from <paramref name="before"/> to
    /// <paramref name="after"/>: a completed operation inconsistent with <paramref name="before"/> but consistent with
    /// <paramref name="after"/> (only a Get, a Delete with a known result or a CompareAndSet can be), or an Unknown
    /// CompareAndSet that applies after it but not before.
    /// </summary>
    private bool IsObserver(int op, int before, int after) =>
        _completed[op]
            ? !TryStep(before, op, out _) && TryStep(after, op, out _)
            : _kinds[op] == OperationKind.CompareAndSet && _expected[op] == after && _expected[op] != before;

    /// <summary>For an Unknown write in a class of interchangeable ones, the class's bit; otherwise 0.</summary>
    private int UnknownClass(int op) =>
        _kinds[op] == OperationKind.Delete ? UnknownDeletes
        : _kinds[op] == OperationKind.Put && _arguments[op] == Unread ? UnknownUnreadPuts
        : 0;

    /// <summary>The register model's step: whether <paramref name="op"/> is consistent with <paramref name="state"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryStep(int state, int op, out int newState)
    {
        var argument = _arguments[op];
        switch (_kinds[op])
        {
            case OperationKind.Put:
                newState = argument;
                return true;
            case OperationKind.Get:
                newState = state;
                return argument == state;
            case OperationKind.CompareAndSet:
                var matches = state == _expected[op];
                newState = matches ? argument : state;
                return _succeeded[op] < 0 || (_succeeded[op] == 1) == matches;
            default:
                newState = Absent;
                return argument < 0 || (argument == 1) == (state != Absent);
        }
    }

    /// <summary>Unlinks operation's call and return events (dancing links: the nodes keep their own pointers).</summary>
    private void Lift(int call)
    {
        Unlink(call);
        Unlink(call + 1);
    }

    /// <summary>Undoes <see cref="Lift"/>; relinking in the reverse order of unlinking restores the list exactly.</summary>
    private void Unlift(int call)
    {
        Relink(call + 1);
        Relink(call);
    }

    private void Unlink(int node)
    {
        var next = _next[node];
        _next[_prev[node]] = next;
        if (next != Nil)
        {
            _prev[next] = _prev[node];
        }
    }

    private void Relink(int node)
    {
        var next = _next[node];
        _next[_prev[node]] = node;
        if (next != Nil)
        {
            _prev[next] = node;
        }
    }

    private void RememberStuck(Frame[] stack, int depth, int state)
    {
        _stuckPrefix = stack[..depth].Select(frame => frame.Call).ToArray();
        _stuckState = state;
        var candidates = new List<int>();
        var node = _next[2 * _ops.Length];
        for (; node != Nil && (node & 1) == 0; node = _next[node])
        {
            candidates.Add(node >> 1);
        }

        // The first return event after the minimal calls: the operation that had to be placed by now.
        _stuckBlocker = node;
        _stuckCandidates = [.. candidates];
    }

    private KeyCheckResult Result(Verdict verdict, long steps, long start, Operation[]? witness)
    {
        var elapsed = Stopwatch.GetElapsedTime(start);
        if (witness is not null)
        {
            return new KeyCheckResult(_key, verdict, _ops.Length, steps, elapsed, witness, finalState: null, []);
        }

        var prefix = _stuckPrefix.Select(call => _ops[call >> 1]).ToArray();
        var unplaced = _stuckCandidates.Select(op => new UnplacedOperation(_ops[op], Reason(op))).ToArray();
        return new KeyCheckResult(_key, verdict, _ops.Length, steps, elapsed, prefix, StuckValueText(), unplaced);
    }

    private string Reason(int op)
    {
        var operation = _ops[op];
        string reason;
        if (TryStep(_stuckState, op, out _))
        {
            reason = "could go next, but every continuation after it fails";
        }
        else if (operation.Kind == OperationKind.Get)
        {
            reason = $"read {StateText(_arguments[op])} but the value is {StuckValueText()}";
            if (_arguments[op] != Absent && !_writtenValues.Contains(_arguments[op]))
            {
                reason += " (no Put or CompareAndSet in the history writes the value read)";
            }
        }
        else if (operation.Kind == OperationKind.CompareAndSet)
        {
            reason = operation.Succeeded == true
                ? $"expected {StateText(_expected[op])} and set the value, but the value is {StuckValueText()}"
                : $"expected {StateText(_expected[op])} and did not set the value, but that is the value";
        }
        else
        {
            reason = operation.Existed == true
                ? "reported that the key existed, but it is absent"
                : $"reported that the key did not exist, but its value is {StuckValueText()}";
        }

        if (_stuckBlocker != Nil && _stuckBlocker >> 1 == op)
        {
            reason += string.Create(
                CultureInfo.InvariantCulture,
                $"; it completed at {operation.CompletedAt}, so it must precede everything invoked later");
        }

        return reason;
    }

    private string StateText(int state) => state switch
    {
        Absent => ValueText.Format(null),
        Unread => "a value no Get read",
        _ => ValueText.Format(_values[state]),
    };

    /// <summary>The value after <see cref="_stuckPrefix"/>, replayed so that it is shown even when no Get read it.</summary>
    private string StuckValueText()
    {
        // Replayed on ids, which decide the steps, alongside the bytes, which are what a person wants to see.
        var state = Absent;
        byte[]? value = null;
        foreach (var call in _stuckPrefix)
        {
            var op = call >> 1;
            var applies = _kinds[op] is OperationKind.Put or OperationKind.Delete
                || (_kinds[op] == OperationKind.CompareAndSet && state == _expected[op]);
            if (applies)
            {
                value = _ops[op].Value;
            }

            TryStep(state, op, out state);
        }

        return ValueText.Format(value);
    }

    private int CompareEvents(int a, int b)
    {
        var byTime = EventTime(a).CompareTo(EventTime(b));
        if (byTime != 0)
        {
            return byTime;
        }

        var byType = (a & 1).CompareTo(b & 1);
        return byType != 0 ? byType : a.CompareTo(b);
    }

    private long EventTime(int node)
    {
        var op = _ops[node >> 1];
        return (node & 1) == 0 ? op.InvokedAt
            : op.Outcome == OperationOutcome.Ok ? op.CompletedAt!.Value
            : long.MaxValue;
    }

    /// <summary>Steele, Lea and Flood's SplitMix64: cheap, well-mixed 64-bit values for Zobrist hashing.</summary>
    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A placed operation and the node it was placed from, restored when backtracking.</summary>
    /// <param name="Call">The operation's call event.</param>
    /// <param name="State">The register state before it.</param>
    /// <param name="Guard">The node's guard.</param>
    /// <param name="Tried">The classes of interchangeable Unknown writes tried at the node, including this one's.</param>
    /// <param name="Forced">Placed by the reads-first rule, so the node has no other move.</param>
    /// <param name="First">Where the node's candidates start.</param>
    /// <param name="Count">How many candidates the node has.</param>
    /// <param name="Next">Which candidate this one is.</param>
    private readonly record struct Frame(int Call, int State, int Guard, int Tried, bool Forced, int First, int Count, int Next);
}
