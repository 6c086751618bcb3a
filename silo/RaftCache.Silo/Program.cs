// The hosted silo arrives with the Orleans integration; until then this host only reports that.
Console.Error.WriteLine("RaftCache silo: the Orleans host is not part of this build yet (see README, Status).");
return 2;
