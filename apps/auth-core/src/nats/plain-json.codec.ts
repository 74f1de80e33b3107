import { Msg, headers as natsHeaders } from '@nats-io/transport-node';
import { ConsumerDeserializer, Serializer } from '@nestjs/microservices';
import { ERROR_HEADER, NOT_JSON, WireError } from '@portcullis/contracts';

let counter = 0;

/**
 * auth-core speaks plain JSON on NATS (see libs/contracts/src/wire.ts) instead of Nest's packet
 * envelope, so any NATS client can call it. Nest still needs a packet id to route the reply,
 * so one is made up for each request that carries a reply subject.
 */
export class PlainJsonDeserializer implements ConsumerDeserializer {
  deserialize(msg: Msg, options?: { channel?: string }) {
    let data: unknown;
    try {
      data = msg.data.length ? msg.json() : {};
    } catch {
      // Every handler's validatePayload refuses it as "not valid JSON".
      data = NOT_JSON;
    }
    return { pattern: options?.channel, data, id: msg.reply ? `r${++counter}` : undefined };
  }
}

interface OutgoingPacket {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

export class PlainJsonSerializer implements Serializer {
  serialize(packet: OutgoingPacket) {
    if (packet.err !== undefined) {
      const error = packet.err as WireError;
      const headers = natsHeaders();
      headers.set(ERROR_HEADER, error.code ?? 'INTERNAL');
      return { data: JSON.stringify({ error }), headers };
    }
    return { data: JSON.stringify(packet.response ?? null) };
  }
}
