// The client CLI arrives with the Orleans integration; until then this program only reports that.
Console.Error.WriteLine("raftcache: the client is not part of this build yet (see README, Status).");
return 2;
