namespace RaftCache.StateMachine;

/// <summary>
/// The client sessions, in a list ordered by last activity (log time is monotonic, so moving a touched session to
/// the tail keeps the list sorted). Expiry and eviction take from the head: O(1) per session and deterministic.
/// Applying thread only, except <see cref="Count"/>.
/// </summary>
internal sealed class SessionTable
{
    private readonly Dictionary<long, ClientSession> _byId = [];
    private ClientSession? _head;
    private ClientSession? _tail;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The least recently active session, or <see langword="null"/>.</summary>
    public ClientSession? Oldest => _head;

    public bool TryGet(long id, out ClientSession session) => _byId.TryGetValue(id, out session!);

    /// <summary>Adds a session as the most recently active; false if the id exists.</summary>
    public bool Add(ClientSession session)
    {
        if (!_byId.TryAdd(session.Id, session))
        {
            return false;
        }

        Append(session);
        Volatile.Write(ref _count, _byId.Count);
        return true;
    }

    public void Touch(ClientSession session, long logTimeUnixMs)
    {
        session.LastActiveUnixMs = logTimeUnixMs;
        if (_tail == session)
        {
            return;
        }

        Unlink(session);
        Append(session);
    }

    public void Remove(ClientSession session)
    {
        _byId.Remove(session.Id);
        Unlink(session);
        Volatile.Write(ref _count, _byId.Count);
    }

    /// <summary>Sessions from least to most recently active (the order that snapshots keep).</summary>
    public IEnumerable<ClientSession> InActivityOrder()
    {
        for (var s = _head; s is not null; s = s.Next)
        {
            yield return s;
        }
    }

    private void Append(ClientSession session)
    {
        session.Previous = _tail;
        session.Next = null;
        if (_tail is null)
        {
            _head = session;
        }
        else
        {
            _tail.Next = session;
        }

        _tail = session;
    }

    private void Unlink(ClientSession session)
    {
        if (session.Previous is null)
        {
            _head = session.Next;
        }
        else
        {
            session.Previous.Next = session.Next;
        }

        if (session.Next is null)
        {
            _tail = session.Previous;
        }
        else
        {
            session.Next.Previous = session.Previous;
        }

        session.Previous = null;
        session.Next = null;
    }
}
