return args.Length;
